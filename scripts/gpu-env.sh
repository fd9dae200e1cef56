# Sourced by the GPU scripts: what the GPU machine lacks, from the wheels in .whl/ (installed
# into /tmp/site when an import fails), the repository on PYTHONPATH, MNIST from MNIST_ROOT
# (default .mnist) and never fetched, and the GPU's name, memory and driver at the top of $log.
if ! python3 -c "import optuna, fvcore, sqlalchemy, pooch" 2>/dev/null && [ -d .whl ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl || exit 1
  export PYTHONPATH=/tmp/site
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
export MNIST_ROOT=${MNIST_ROOT:-.mnist} MNIST_OFFLINE=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader >>"$log" 2>&1
