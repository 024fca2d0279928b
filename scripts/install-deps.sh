#!/usr/bin/env bash
# Installs the Debian 12 packages tandem builds and tests with. Idempotent: packages already
# present are skipped, so re-running it is cheap and safe.
set -euo pipefail
PKGS=(
  build-essential cmake pkg-config git
  libhwy-dev               # portable SIMD with runtime dispatch (kernels)
  nlohmann-json3-dev       # JSON (tools' --json output, reference files in tests)
  libcli11-dev             # command line of the tandem program
  libspdlog-dev libfmt-dev # logging and formatting
  libcpp-httplib-dev       # HTTP client of `tandem pull` (and the test server in its tests)
  libssl-dev               # OpenSSL: https for `tandem pull`, sha256 of downloads
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  clang libclang-rt-14-dev # libFuzzer for the GGUF fuzz target
  libpcre2-dev             # Unicode regex (\p{L}, \p{N}, lookahead) for BPE pre-tokenizers
  libsentencepiece-dev     # the SentencePiece library: oracle for the SPM tokenizer tests
  libsqlite3-dev           # the device's request ledger (src/ledger)
  libtomlplusplus-dev      # TOML parser for tandem edge's configuration file
  libphonenumber-dev       # phone number validation (Parse + IsValidNumber) in the PII detector
  json-schema-test-suite   # the official JSON Schema Test Suite: oracle for the schema -> grammar converter
  python3-fastjsonschema   # an independent JSON Schema validator for constrained outputs (tests)
  python3-jinja2           # Python's jinja2: oracle for the chat template interpreter (tests/jinja_reference.py)
  chromium                 # the browser that tests/webui/check.mjs drives through the edge web UI
)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PKGS[@]} packages present"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
