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

kt_done
