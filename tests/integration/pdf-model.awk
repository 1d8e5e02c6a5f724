# Generate a JSON assembly model (kopro/assembly.h, "Document data (JSON model)")
# for kopro-pdf render tests and benchmarks, without a database.
# usage: awk -v lots=40 -v res=15 [-v agenda=1] [-v longnames=0] -f pdf-model.awk
# Deterministic: the same arguments give the same document.
function id(kind, n) { return sprintf("00000000-0000-4000-8%03d-%012d", kind, n) }
function q(s) { gsub(/\\/, "\\\\", s); gsub(/"/, "\\\"", s); return "\"" s "\"" }
BEGIN {
    if (lots == "") lots = 40
    if (res == "") res = 15
    if (agenda == "") agenda = 1
    nf = split("Łukasz|Ayşe|Ingrid|Γιώργος|Иван|Émilie|Jan|Zoë|François|Søren|Đorđe|Chloé", first, "|")
    nl = split("Nowak|Şahin|Ødegaard|Παπαδόπουλος|Иванов|Dubois|Janssens|Müller|Lefèvre|Kierkegård|Đoković|Van den Bossche", last, "|")
    T = 10000
    base = int(T / lots); extra = T - base * lots
    printf "{\"model\":\"assembly\",\"version\":1,\n"
    printf "\"building\":{\"id\":%s,\"organization_id\":%s,\"name\":%s,\"address\":%s,\"postal_code\":\"1050\",\"city\":\"Ixelles\",\"total_tantiemes\":%d},\n", \
        q(id(1, 1)), q(id(9, 1)), q("Résidence Les Érables"), q("Rue de l'Été 12"), T
    printf "\"meeting\":{\"id\":%s,\"type\":\"ordinary\",\"title\":%s,\"location\":%s,\"status\":\"completed\",\"scheduled_at\":\"2026-03-12T18:30:00Z\",\"is_second_convocation\":false,\"president\":%s,\"secretary\":%s,\"agenda\":[", \
        q(id(2, 1)), q("Assemblée générale ordinaire 2026"), q("Salle communale, Place Fernand Cocq 1, Ixelles"), q("Ingrid Ødegaard"), q("Jan Janssens")
    if (agenda) for (r = 1; r <= res; r++) printf "%s%s", (r > 1 ? "," : ""), q("Point " r " : décision n° " r)
    printf "]},\n\"owners\":["
    # owner k holds lot k; lot 2 is co-owned by owners 2 and lots+1 (a couple); owner 3 is a company
    for (k = 1; k <= lots + 1; k++) {
        att = "present"
        lot = (k <= lots) ? k : 2
        if (lot % 5 == 0) att = "absent"
        else if (lot % 7 == 0) att = "represented"
        if (k == 3) {
            name = "SRL Immo Ἀθῆναι & Fils"
            printf "%s{\"id\":%s,\"name\":%s,\"is_company\":true,\"attendance\":%s}", (k > 1 ? "," : ""), q(id(3, k)), q(name), q(att)
            continue
        }
        fn = first[(k - 1) % nf + 1]; ln = last[(k * 7 - 1) % nl + 1]
        if (k > nf) ln = ln " " k
        if (longnames && k == 4) { fn = ""; for (i = 0; i < 24; i++) fn = fn "Wolfeschlegelsteinhausen"; fn = substr(fn, 1, 240) }
        printf "%s{\"id\":%s,\"first_name\":%s,\"last_name\":%s,\"attendance\":%s}", (k > 1 ? "," : ""), q(id(3, k)), q(fn), q(ln), q(att)
    }
    printf "],\n\"units\":["
    for (k = 1; k <= lots; k++)
        printf "%s{\"id\":%s,\"number\":%s,\"type\":\"apartment\",\"quota\":\"%d\"}", (k > 1 ? "," : ""), q(id(4, k)), q(sprintf("A%03d", k)), base + (k <= extra ? 1 : 0)
    printf "],\n\"ownerships\":["
    for (k = 1; k <= lots; k++) {
        if (k == 2) printf ",{\"unit\":%s,\"owner\":%s,\"fraction\":\"0.5\"},{\"unit\":%s,\"owner\":%s,\"fraction\":\"0.5\"}", q(id(4, 2)), q(id(3, 2)), q(id(4, 2)), q(id(3, lots + 1))
        else printf "%s{\"unit\":%s,\"owner\":%s}", (k > 1 ? "," : ""), q(id(4, k)), q(id(3, k))
    }
    printf "],\n\"proxies\":["
    np = 0
    for (k = 1; k <= lots; k++) {
        if (k % 5 == 0 || k % 7 != 0) continue
        h = ((k - 1) % 5 != 0) ? k - 1 : k + 1
        holder[k] = h
        printf "%s{\"grantor\":%s,\"holder_owner\":%s}", (np++ ? "," : ""), q(id(3, k)), q(id(3, h))
    }
    printf "],\n\"resolutions\":["
    split("Absolute|TwoThirds|FourFifths|Unanimity", maj, "|")
    for (r = 1; r <= res; r++)
        printf "%s{\"id\":%s,\"title\":%s,\"description\":%s,\"majority_required\":%s,\"status\":\"Pending\"}", (r > 1 ? "," : ""), q(id(5, r)), \
            q("Résolution " r " — travaux de toiture, lot " r), q("Proposition du conseil de copropriété concernant le point " r " de l'ordre du jour."), q(maj[(r - 1) % 4 + 1])
    printf "],\n\"votes\":["
    nv = 0
    for (r = 1; r <= res; r++) for (k = 1; k <= lots; k++) {
        if (k % 5 == 0) continue
        x = (k * 7 + r * 3) % 10
        ch = (x <= 5) ? "Pour" : (x <= 7 ? "Contre" : "Abstention")
        pv = (k % 7 == 0) ? ",\"proxy_owner\":" q(id(3, holder[k])) : ""
        printf "%s{\"resolution\":%s,\"unit\":%s,\"owner\":%s,\"choice\":\"%s\",\"voting_power\":\"%d\"%s}", (nv++ ? "," : ""), q(id(5, r)), q(id(4, k)), q(id(3, k)), ch, base + (k <= extra ? 1 : 0), pv
        if (nv % 8 == 0) printf "\n"
    }
    printf "]}\n"
}
