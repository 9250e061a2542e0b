#!/usr/bin/env bash
# Install the system packages normbook's demo and tests use, when they are missing and apt-get is there:
# Fashion-MNIST (Debian's dataset-fashion-mnist) and, with --browser, headless Chromium for the docs test.
set -u
want=()
fm=/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
if [ -z "${NORMBOOK_DATA:-}" ] && [ ! -f "$fm" ]; then want+=(dataset-fashion-mnist); fi
if [ "${1:-}" = "--browser" ] && ! command -v chromium >/dev/null 2>&1; then want+=(chromium fonts-dejavu-core); fi
[ ${#want[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
  echo "normbook: apt-get not found; missing: ${want[*]}."
  echo "  Fashion-MNIST: set NORMBOOK_DATA to a folder with the four *-ubyte.gz files, or let torchvision download it."
  exit 0
fi
sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "normbook: installing ${want[*]} with apt-get"
$sudo apt-get update -qq >/dev/null && \
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${want[@]}" >/dev/null \
  || echo "normbook: apt-get could not install ${want[*]}; the tests that need them will say so."
exit 0
