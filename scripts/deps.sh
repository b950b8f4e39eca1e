#!/usr/bin/env bash
# Installs the system packages the build and tests need, when missing.
#
#   scripts/deps.sh [postgres] [chromium] [ocr] [wrk] [make]   (default: postgres chromium)
#
# wrk: the HTTP load generator `make bench` drives the server with (optional:
# without it cmd/loadtest falls back to its own Go generator, which takes more
# of the machine's CPU and so measures lower).
#
# ocr: Tesseract and poppler's pdftoppm, which read scanned PDF pages
# (optional for the app: without them such pages are marked "no text").
#
# Everything present: returns at once, without calling apt. Something missing:
# as root, installs it from Debian (one `apt-get update`); otherwise names the
# packages to install and fails.
set -euo pipefail

want=("$@")
[ ${#want[@]} -gt 0 ] || want=(postgres chromium)

have_postgres() {
	# Server binaries (initdb, pg_ctl, postgres) as Debian installs them, or
	# on PATH; and the unprivileged `postgres` user that runs them for root.
	local ok=
	if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
		ok=1
	fi
	for d in /usr/lib/postgresql/*/bin; do
		if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && [ -x "$d/postgres" ]; then ok=1; fi
	done
	[ -n "$ok" ] || return 1
	if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then return 1; fi
	command -v psql >/dev/null 2>&1
}

have_chromium() {
	if [ -n "${ACCUTE_CHROMIUM:-}" ] && [ -x "${ACCUTE_CHROMIUM}" ]; then return 0; fi
	command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1
}

have_ocr() { command -v tesseract >/dev/null 2>&1 && command -v pdftoppm >/dev/null 2>&1; }

have_wrk() { command -v wrk >/dev/null 2>&1; }

have_make() { command -v make >/dev/null 2>&1; }

missing=()
for w in "${want[@]}"; do
	case "$w" in
	postgres) have_postgres || missing+=(postgresql) ;;
	chromium) have_chromium || missing+=(chromium) ;;
	ocr) have_ocr || missing+=(tesseract-ocr tesseract-ocr-eng poppler-utils) ;;
	wrk) have_wrk || missing+=(wrk) ;;
	make) have_make || missing+=(make) ;;
	*) echo "deps.sh: unknown dependency '$w' (known: postgres chromium ocr wrk make)" >&2; exit 2 ;;
	esac
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ]; then
	# OCR and wrk are optional: without them, only say so.
	only_optional=1
	for m in "${missing[@]}"; do
		case "$m" in tesseract-ocr | tesseract-ocr-eng | poppler-utils | wrk) ;; *) only_optional= ;; esac
	done
	if [ -n "$only_optional" ]; then
		case " ${missing[*]} " in *" tesseract-ocr "*)
			echo "note: Tesseract OCR is not installed (sudo apt-get install -y tesseract-ocr poppler-utils); OCR tests are skipped." >&2 ;;
		esac
		case " ${missing[*]} " in *" wrk "*)
			echo "note: wrk is not installed (sudo apt-get install -y wrk); the load test uses its own Go generator, which measures lower." >&2 ;;
		esac
		exit 0
	fi
	{
		echo
		echo "Missing system packages: ${missing[*]}"
		echo "Install them (Debian/Ubuntu) with:"
		echo
		echo "    sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}"
		echo
		case " ${missing[*]} " in *" postgresql "*)
			echo "(postgresql gives the server binaries under /usr/lib/postgresql/*/bin that the"
			echo " private development and test databases run from; or set DATABASE_URL / TEST_DATABASE_URL.)" ;;
		esac
		case " ${missing[*]} " in *" tesseract-ocr "*)
			echo "(tesseract-ocr and poppler-utils read scanned PDF pages; without them the OCR tests are skipped.)" ;;
		esac
		case " ${missing[*]} " in *" chromium "*)
			echo "(chromium runs the browser tests headless; or point ACCUTE_CHROMIUM at a Chromium/Chrome binary.)" ;;
		esac
	} >&2
	exit 1
fi

if ! command -v apt-get >/dev/null 2>&1; then
	echo "deps.sh: missing ${missing[*]} and no apt-get here: install them with your package manager." >&2
	exit 1
fi
echo "==> installing ${missing[*]} (apt-get)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
