// The image's HEALTHCHECK: healthy (exit 0) once the REST status of $MODEL_NAME on port $PORT lists a
// version AVAILABLE, i.e. what `curl localhost:8501/v1/models/$MODEL_NAME` shows a person. Plain Node
// (global fetch), so the image needs no curl. The reason for a failure goes to stderr, which Docker
// keeps in `docker inspect --format '{{json .State.Health}}'`.
const port = process.env.PORT || "8501";
const model = process.env.MODEL_NAME || "model";
const url = `http://127.0.0.1:${port}/v1/models/${encodeURIComponent(model)}`;

try {
  const response = await fetch(url);
  const body = await response.json();
  const states = (body.model_version_status ?? []).map((v) => `${v.version}:${v.state}`);
  if (response.ok && states.some((s) => s.endsWith(":AVAILABLE"))) process.exit(0);
  process.stderr.write(
    `${url}: HTTP ${response.status}, ${body.error ?? `versions ${states.join(" ") || "none"}`}\n`,
  );
} catch (error) {
  process.stderr.write(
    `${url}: ${error instanceof Error ? (error.cause?.message ?? error.message) : error}\n`,
  );
}
process.exit(1);
