#!/usr/bin/env bash
# Regenerates the binary fixtures in testdata/ from the sources here with
# real office software (Debian: libreoffice-writer libreoffice-calc qpdf
# poppler-utils). The committed fixtures are the reference: regenerating
# with another LibreOffice version may change fonts and layout, and the
# tests' expected text with it.
set -euo pipefail
cd "$(dirname "$0")"
out=..
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

soffice --headless --convert-to docx --outdir "$out" report.fodt
soffice --headless --convert-to pdf --outdir "$out" report.fodt
soffice --headless --convert-to xlsx --outdir "$out" workbook.fods
# LibreOffice's default CSV: comma separated, ISO-8859-1.
soffice --headless --convert-to csv --outdir "$out" workbook.fods
# UTF-8 (76), semicolons (59), quoted text (34).
soffice --headless --convert-to 'csv:Text - txt - csv (StarCalc):59,34,76,1' --outdir "$tmp" workbook.fods
cp "$tmp/workbook.csv" "$out/workbook-semicolon.csv"

python3 hundred.py
soffice --headless --convert-to pdf --outdir "$out" hundred.fodt
rm hundred.fodt

# Password needed to open (AES-256 and 128-bit RC4), and permissions only
# (empty user password: anyone can open it).
qpdf --encrypt secret ownerpw 256 -- "$out/report.pdf" "$out/encrypted-aes256.pdf"
qpdf --allow-weak-crypto --encrypt secret ownerpw 128 --use-aes=n -- "$out/report.pdf" "$out/encrypted-rc4.pdf"
qpdf --encrypt "" ownerpw 256 -- "$out/report.pdf" "$out/restricted-aes256.pdf"

# A "scan": page 1 rendered as a JPEG; the tests wrap it in an image-only PDF.
pdftoppm -f 1 -l 1 -r 100 -gray -jpeg -jpegopt quality=60 -singlefile "$out/report.pdf" "$tmp/scan"
cp "$tmp/scan.jpg" "$out/scan-page.jpg"

# notes.txt is written by hand (CRLF line ends, UTF-8).
