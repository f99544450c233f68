#!/bin/sh
# The image's entrypoint, as tensorflow/serving's tf_serving_entrypoint.sh: the ports and the model
# come from the environment and the `docker run` arguments are appended, so every TF Serving recipe
# works unchanged, e.g. `docker run ... ts-serving --model_config_file=/models/models.config`
# (--model_config_file overrides --model_name/--model_base_path; a repeated flag takes its last value).
# Beyond tensorflow/serving: a first argument that is not a flag is a subcommand,
# e.g. `docker run ts-serving inspect --dir /models/ranking/1`.
set -e

case "${1:-}" in
  "" | -*)
    exec ts-serving --port="${GRPC_PORT:-8500}" --rest_api_port="${PORT:-8501}" \
      --model_name="${MODEL_NAME:-model}" --model_base_path="${MODEL_BASE_PATH:-/models}/${MODEL_NAME:-model}" \
      "$@"
    ;;
  *)
    exec ts-serving "$@"
    ;;
esac
