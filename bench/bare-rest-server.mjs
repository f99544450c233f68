// The benches' baseline REST server: node:http, JSON.parse, one onnxruntime-node run of the model,
// JSON.stringify; nothing else (no routing, no checks, no version handling). Plain JavaScript, run by
// node directly, as ts-serving's built CLI is.
// Usage: node bench/bare-rest-server.mjs <model.onnx> <input width>  (prints "listening <port>")
import { createServer } from "node:http";
import { InferenceSession, Tensor } from "onnxruntime-node";

const [modelPath, widthArg] = process.argv.slice(2);
const width = Number(widthArg);
const session = await InferenceSession.create(modelPath, { graphOptimizationLevel: "all" });

const server = createServer((req, res) => {
  const chunks = [];
  req.on("data", (chunk) => chunks.push(chunk));
  req.on("end", () => {
    const reply = (status, body) => res.writeHead(status, { "Content-Type": "application/json" }).end(body);
    try {
      const { instances } = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      const data = new Float32Array(instances.length * width);
      for (const [i, row] of instances.entries()) data.set(row, i * width);
      session.run({ x: new Tensor("float32", data, [instances.length, width]) }).then(
        (out) => reply(200, JSON.stringify({ predictions: Array.from(out.y.data, (v) => [v]) })),
        (error) => reply(500, JSON.stringify({ error: String(error) })),
      );
    } catch (error) {
      reply(400, JSON.stringify({ error: String(error) }));
    }
  });
});
server.listen(0, "127.0.0.1", () => console.log(`listening ${server.address().port}`));
process.on("SIGTERM", () => process.exit(0));
