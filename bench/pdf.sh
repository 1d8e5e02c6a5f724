#!/bin/sh
# Benchmark of kopro-pdf (run by `make bench` through bench/run.sh; alone:
# sh bench/pdf.sh BUILD). POSIX sh; needs /usr/bin/time (package time).
# - minutes of a 40-lot, 15-resolution assembly rendered from the JSON model:
#   CPU ms per document (median of 50 runs, user+sys of the process via
#   bench/pdf_clitime.c, and in one process via bench/pdf_bench.c, which is
#   the library's cost per document in a worker), instructions under valgrind
#   --tool=callgrind, output size and pages;
# - 1,000 owners' statements with --all-owners --jobs 2: wall, CPU, peak RSS;
# - WeasyPrint on the text of the same minutes as HTML, the reference peer.
set -u
build=${1:-$(pwd)/build}
root=$(cd "$(dirname "$0")/.." && pwd)
bin="$build/bin/kopro-pdf"
export KOPRO_TEMPLATE_DIR="$root/templates" KOPRO_FONT_DIR="$build/fonts"
tmp=$(mktemp -d /tmp/kopro-bench-pdf.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

awk -v lots=40 -v res=15 -f "$root/tests/integration/pdf-model.awk" >"$tmp/m.json"
"$bin" render minutes --data "$tmp/m.json" --final -o "$tmp/m.pdf" 2>"$tmp/info" || { cat "$tmp/info"; exit 1; }
pages=$(pdfinfo "$tmp/m.pdf" | awk '/^Pages:/{print $2}')
size=$(wc -c <"$tmp/m.pdf")

# CLI: CPU (user+sys from wait4's rusage, us) of 50 fresh processes, median;
# bench/pdf_clitime.c, since /usr/bin/time only reports 10 ms steps.
median_ms="n/a"
if cc -std=c11 -O2 -o "$tmp/pdf_clitime" "$root/bench/pdf_clitime.c" 2>"$tmp/cc.err"; then
    median_ms=$("$tmp/pdf_clitime" 50 "$bin" render minutes --data "$tmp/m.json" --final -o "$tmp/r.pdf" |
        awk '{printf "%.1f", $1 / 1000}')
else
    cat "$tmp/cc.err" >&2
fi

# In-process: the library's CPU per document, without exec and JSON parsing.
inproc="n/a"
if cc -std=c11 -D_GNU_SOURCE -O2 -I"$root/lib/include" $(pkg-config --cflags jansson libpq) \
    -o "$tmp/pdf_bench" "$root/bench/pdf_bench.c" "$build/libkopro.a" \
    $(pkg-config --libs libpq jansson libcrypto libcurl cairo freetype2 zlib libdeflate) -lhpdf -lm -lpthread 2>"$tmp/cc.err"; then
    inproc=$("$tmp/pdf_bench" "$tmp/m.json" 50 | awk '{printf "%.2f", $1 / 1000}')
else
    cat "$tmp/cc.err" >&2
fi

instr="n/a"
if command -v valgrind >/dev/null 2>&1; then
    valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.out" "$bin" render minutes \
        --data "$tmp/m.json" --final -o "$tmp/cg.pdf" >/dev/null 2>&1
    instr=$(awk '/^(summary|totals):/{print $2; exit}' "$tmp/cg.out")
fi

echo "pdf.minutes_40lots_15res: pages=$pages size_bytes=$size cli_cpu_ms_median50=$median_ms inprocess_cpu_ms_median50=$inproc cli_instructions=$instr"

# The size goal is for a 4-page minutes: the 12-lot, 5-resolution model is 4
# pages; measured as a draft (the watermark adds a little) and final.
awk -v lots=12 -v res=5 -f "$root/tests/integration/pdf-model.awk" >"$tmp/m4.json"
"$bin" render minutes --data "$tmp/m4.json" -o "$tmp/m4d.pdf" 2>/dev/null &&
    "$bin" render minutes --data "$tmp/m4.json" --final -o "$tmp/m4f.pdf" 2>/dev/null &&
    echo "pdf.minutes_12lots_5res: pages=$(pdfinfo "$tmp/m4d.pdf" | awk '/^Pages:/{print $2}') size_bytes_draft=$(wc -c <"$tmp/m4d.pdf") size_bytes_final=$(wc -c <"$tmp/m4f.pdf")"


# 1,000 owners' statements (render statement --all-owners, 2 threads): wall
# time and peak RSS of the process.
awk -v n=1000 'BEGIN {
    T = 10000; base = int(T * 10000 / n)   # quota in 1/10000 tantieme
    printf "{\"model\":\"accounts\",\"version\":1,\"building\":{\"id\":\"b1\",\"organization_id\":\"org1\",\"name\":\"Résidence Bench\",\"total_tantiemes\":%d},", T
    printf "\"period\":{\"from\":\"2025-01-01\",\"to\":\"2025-12-31\"},\"source\":\"journal_entry_lines\",\"accounts\":["
    split("604001 611001 612001 613001 615001 620001", codes, " ")
    for (i = 1; i <= 6; i++) printf "%s{\"code\":\"%s\",\"label\":\"Charge %d\",\"class\":6,\"debit\":\"%d.%02d\",\"credit\":\"0\"}", (i > 1 ? "," : ""), codes[i], i, 1000 + i * 977, i * 7
    printf ",{\"code\":\"700001\",\"label\":\"Appels\",\"class\":7,\"debit\":\"0\",\"credit\":\"30000.00\"}],\"owners\":["
    for (k = 1; k <= n; k++) printf "%s{\"id\":\"o%05d\",\"name\":\"Propriétaire Ødegaard %d\"}", (k > 1 ? "," : ""), k, k
    printf "],\"units\":["
    for (k = 1; k <= n; k++) { q = base; if (k == 1) q += T * 10000 - base * n; printf "%s{\"id\":\"u%05d\",\"number\":\"L%d\",\"quota\":\"%d.%04d\"}", (k > 1 ? "," : ""), k, k, int(q / 10000), q % 10000 }
    printf "],\"ownerships\":["
    for (k = 1; k <= n; k++) printf "%s{\"unit\":\"u%05d\",\"owner\":\"o%05d\"}", (k > 1 ? "," : ""), k, k
    printf "],\"contributions\":["
    for (k = 1; k <= n; k++) printf "%s{\"owner\":\"o%05d\",\"fund\":\"working_capital\",\"called\":\"30.00\",\"paid\":\"30.00\",\"date\":\"2025-01-06\"}", (k > 1 ? "," : ""), k
    printf "]}\n"
}' >"$tmp/acc.json"
mkdir -p "$tmp/st"
if /usr/bin/time -f '%e %M %U %S' -o "$tmp/st.time" "$bin" render statement --data "$tmp/acc.json" \
    --all-owners --out-dir "$tmp/st" --final --jobs 2 2>"$tmp/st.err"; then
    read -r st_wall st_kb st_user st_sys <"$tmp/st.time"
    echo "pdf.statements_1000: files=$(ls "$tmp/st" | wc -l) wall_s=$st_wall cpu_s=$(awk -v u="$st_user" -v s="$st_sys" 'BEGIN{print u + s}') peak_rss_kb=$st_kb bytes_total=$(du -sb "$tmp/st" | cut -f1)"
else
    echo "pdf.statements_1000: failed: $(tail -n 1 "$tmp/st.err")"
fi

if command -v weasyprint >/dev/null 2>&1; then
    { echo '<html><head><meta charset="utf-8"><style>@page{size:A4;margin:50pt} body{font-family:"DejaVu Sans";font-size:10pt} td{border-bottom:0.3pt solid #888}</style></head><body><pre style="font-family:inherit;white-space:pre-wrap">'
      pdftotext -layout "$tmp/m.pdf" - | sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g'
      echo '</pre></body></html>'; } >"$tmp/m.html"
    for i in 1 2 3 4 5; do
        /usr/bin/time -a -o "$tmp/wtimes" -f '%U %S' weasyprint "$tmp/m.html" "$tmp/w.pdf" 2>/dev/null
    done
    w_ms=$(awk '{print ($1 + $2) * 1000}' "$tmp/wtimes" | sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}')
    echo "pdf.weasyprint_same_text: cpu_ms_median5=$w_ms size_bytes=$(wc -c <"$tmp/w.pdf") ratio_cpu=$(awk -v a="$w_ms" -v b="$median_ms" 'BEGIN{ if (b > 0) printf "%.1f", a / b; else print "n/a" }')x"
else
    echo "pdf.weasyprint: not installed (apt-get install weasyprint) - no reference figure"
fi
