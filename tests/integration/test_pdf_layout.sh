#!/bin/sh
# Layout and robustness of kopro-pdf render (no database): a 500-lot,
# 60-resolution assembly (page count, repeated table headers, nothing outside
# the margins by pdftotext -bbox), and hostile inputs (255-character names,
# control characters, emoji, an empty agenda) giving a clean document.
. "$(dirname "$0")/lib.sh"

PDF="$KOPRO_BIN/kopro-pdf"
MODEL="$KT_ROOT/tests/integration/pdf-model.awk"

# Every word inside the A4 body: 50 pt margins (page 595.276 x 841.89 pt).
inside_margins() {
    pdftotext -bbox "$1" - 2>/dev/null | awk '
        /<word / {
            n++
            for (i = 1; i <= NF; i++) {
                split($i, kv, "=")
                gsub(/"/, "", kv[2])
                v[kv[1]] = kv[2] + 0
            }
            if (v["xMin"] < 49.5 || v["xMax"] > 545.8 || v["yMin"] < 49.5 || v["yMax"] > 792.4) {
                bad++
                if (bad < 5) print "outside the margins: " $0
            }
        }
        END { if (n == 0) { print "no words"; exit 1 } exit bad > 0 }'
}

last_page_label_matches() { # pdf label-word
    pages=$(pdfinfo "$1" 2>/dev/null | awk '/^Pages:/{print $2}')
    pdftotext -f "$pages" -l "$pages" "$1" - | grep -q "$2 $pages / $pages" ||
        { echo "last page ($pages) has no '$2 $pages / $pages'"; return 1; }
}

awk -v lots=500 -v res=60 -f "$MODEL" >"$KT_TMP/big.json"
kt_check "500 lots, 60 resolutions: renders" "$PDF" render minutes --data "$KT_TMP/big.json" -o "$KT_TMP/big.pdf"
kt_check "big: qpdf --check" qpdf --check "$KT_TMP/big.pdf"
kt_check "big: more than 20 pages, footer page N / N on the last" last_page_label_matches "$KT_TMP/big.pdf" page
kt_check "big: attendance header repeated on every page it spans (>= 10)" \
    sh -c "[ \$(pdftotext '$KT_TMP/big.pdf' - | grep -cF 'Copropriétaire(s)') -ge 10 ]"
kt_check "big: nothing outside the margins" inside_margins "$KT_TMP/big.pdf"
kt_check "big: all 60 outcomes" sh -c "[ \$(pdftotext '$KT_TMP/big.pdf' - | grep -cE 'ADOPTÉE|REJETÉE') -eq 60 ]"

# Hostile names: 255 characters, control characters, emoji.
awk -v lots=12 -v res=3 -v longnames=1 -f "$MODEL" |
    sed -e 's/"Zoë"/"Zoë\\u0007\\u001b[31m 😀 Bell"/' >"$KT_TMP/hostile.json"
kt_check "hostile names: renders" "$PDF" render minutes --data "$KT_TMP/hostile.json" --lang de -o "$KT_TMP/hostile.pdf"
kt_check "hostile: qpdf --check, no poppler warnings" sh -c "qpdf --check '$KT_TMP/hostile.pdf' >/dev/null && [ -z \"\$(pdftotext '$KT_TMP/hostile.pdf' /dev/null 2>&1)\" ]"
kt_check "hostile: long names wrapped inside the margins" inside_margins "$KT_TMP/hostile.pdf"
kt_check "hostile: the name around the emoji survives" sh -c "pdftotext '$KT_TMP/hostile.pdf' - | grep -q 'Bell'"
kt_check "hostile: no control character in the text" sh -c "! pdftotext '$KT_TMP/hostile.pdf' - | tr -d '\n\f' | grep -q '[[:cntrl:]]'"

# Text is written as 2-byte codes in literal strings: codes whose bytes are
# '(' ')' backslash, LF or CR (U+0028, U+0428 Ш, U+040A Њ, U+040D Ѝ, U+045C ќ) must
# come back unchanged.
awk -v lots=12 -v res=3 -f "$MODEL" | sed -e 's/"Zoë"/"ШЊЍќ (a\\\\b) Ш\\\\"/' >"$KT_TMP/escape.json"
kt_check "escaped code bytes: renders" "$PDF" render minutes --data "$KT_TMP/escape.json" -o "$KT_TMP/escape.pdf"
kt_check "escaped code bytes: pdftotext gives them back" sh -c "pdftotext '$KT_TMP/escape.pdf' - | grep -qF 'ШЊЍќ (a\\b) Ш\\ '"

# An empty agenda and no resolutions: a clean, short document.
awk -v lots=6 -v res=0 -v agenda=0 -f "$MODEL" >"$KT_TMP/empty.json"
kt_check "empty agenda: renders" "$PDF" render minutes --data "$KT_TMP/empty.json" --lang en -o "$KT_TMP/empty.pdf"
kt_check "empty agenda: says so" sh -c "pdftotext '$KT_TMP/empty.pdf' - | tr '\n' ' ' | grep -q 'No item was placed on the agenda'"

# Bad JSON is a clear error (exit 4) naming the input; a missing file exit 3.
printf '{"model":"assembly","building":{}}' >"$KT_TMP/bad.json"
kt_expect_exit "invalid model: exit 4" 4 "$PDF" render minutes --data "$KT_TMP/bad.json" -o "$KT_TMP/bad.pdf"
kt_check "invalid model: message names the member" sh -c "'$PDF' render minutes --data '$KT_TMP/bad.json' -o - 2>&1 >/dev/null | grep -q 'building'"
kt_expect_exit "missing data file: exit 3" 3 "$PDF" render minutes --data "$KT_TMP/nope.json" -o "$KT_TMP/bad.pdf"
kt_check "missing template directory: clear error" sh -c "KOPRO_TEMPLATE_DIR=$KT_TMP/none '$PDF' render minutes --data '$KT_TMP/empty.json' -o - 2>&1 >/dev/null | grep -q 'templates\\|template'"

# Process-wide caches (font files read once) must not change a byte: statements
# rendered in one process by 2 threads (cache warm after the first) equal the
# same statements rendered each by a fresh process (cache cold).
awk -v n=12 'BEGIN {
    printf "{\"model\":\"accounts\",\"version\":1,\"building\":{\"id\":\"b1\",\"organization_id\":\"org1\",\"name\":\"Résidence Ødegaard\",\"total_tantiemes\":1200},"
    printf "\"period\":{\"from\":\"2025-01-01\",\"to\":\"2025-12-31\"},\"source\":\"journal_entry_lines\",\"accounts\":["
    printf "{\"code\":\"611001\",\"label\":\"Entretien\",\"class\":6,\"debit\":\"1234.57\",\"credit\":\"0\"},"
    printf "{\"code\":\"700001\",\"label\":\"Appels\",\"class\":7,\"debit\":\"0\",\"credit\":\"3000.00\"}],\"owners\":["
    for (k = 1; k <= n; k++) printf "%s{\"id\":\"o%02d\",\"name\":\"Иванов Şahin %d\"}", (k > 1 ? "," : ""), k, k
    printf "],\"units\":["
    for (k = 1; k <= n; k++) printf "%s{\"id\":\"u%02d\",\"number\":\"L%d\",\"quota\":\"100\"}", (k > 1 ? "," : ""), k, k
    printf "],\"ownerships\":["
    for (k = 1; k <= n; k++) printf "%s{\"unit\":\"u%02d\",\"owner\":\"o%02d\"}", (k > 1 ? "," : ""), k, k
    printf "],\"contributions\":[]}\n"
}' >"$KT_TMP/acc.json"
mkdir -p "$KT_TMP/warm"
kt_check "statements: 12 in one process, 2 threads" "$PDF" render statement --data "$KT_TMP/acc.json" --all-owners --out-dir "$KT_TMP/warm" --jobs 2
same_as_fresh() {
    for o in o01 o06 o12; do
        "$PDF" render statement --data "$KT_TMP/acc.json" --owner "$o" -o "$KT_TMP/fresh-$o.pdf" 2>/dev/null &&
            cmp "$KT_TMP/warm/$o.pdf" "$KT_TMP/fresh-$o.pdf" || return 1
    done
}
kt_check "statements: warm-cache, threaded output byte-identical to fresh processes" same_as_fresh

kt_done
