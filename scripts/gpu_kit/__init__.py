"""The GPU kit: what a bare, lent GPU machine needs for arcttt, and the one prepared run that uses it.

A lend gives 15 minutes of device time in all and carries at most 64 MiB a call (the working tree
included), with nothing downloadable there (../.library/device/README.md, ../shared/GPU.md). So:

- `pack` writes `.gpukit/` (git-ignored) in two folders, one per device call: `call1/` holds the
  wheels the machine lacks and the first half of the embedded model, `call2/` the second half.
  The model travels as the GGUF tensors arcttt keeps (the layers and the 16 vocabulary rows, of
  262144), in their original quantized bytes: 68 MB instead of the 401 MB float32 conversion.
  Pack rebuilds the conversion from those bytes and refuses unless every tensor is bit-identical
  to arcttt's own cache here, and refuses a call that would pass the size limit.
- `unpack` (there) checks every file's sha256, installs the wheels into a target folder, writes
  the rebuilt model (every tensor's sha256 checked) to a folder that `$ARCTTT_EMBEDDED_MODEL`
  names and, with `--digest`, checks the base-weights digest that the shipped stage-1 adapter's
  manifest names.
- `run` runs the device steps in order of value, each with its own timeout, each result written
  to `--out` (`$OUT`) as soon as it is known, a failure recorded and the next step run anyway.
- `plan` prints the exact device calls with their carry lists, timeouts and sizes.

One module a concern: `common` (places, a call's size limit, hashing, sizes), `model_parts` (the GGUF tensors and the
conversion rebuilt from them), `wheels` (with the machine's package list, `machine_packages.txt`),
`pack`, `unpack`, `runner` (steps with timeouts, results written as they come), `steps` (what the
device runs), `device` (the checks run in a child process there) and `cli`.

Rehearse on the CPU first: `python scripts/gpu_kit.py run --device cpu --dry-run --out DIR`.
docs/GPU_KIT.md says how to use it when a GPU is lent.
"""
