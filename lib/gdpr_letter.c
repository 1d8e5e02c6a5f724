/*
 * lib/gdpr_letter.c — the reply to an erasure request refused by a legal
 * hold (GDPR art. 12(4): reasons and the right to complain; art. 17(3)(b),
 * (e)), in the language of the person's building (FR, NL, DE, EN), laid out
 * with kopro/pdf.h (embedded DejaVu fonts).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kopro/buf.h"
#include "kopro/error.h"
#include "kopro/gdpr.h"
#include "kopro/pdf.h"

struct letter_text {
    const char *lang;
    const char *title;
    const char *to;           /* "To: {1}" */
    const char *date;         /* "Date: {1}" */
    const char *salutation;
    const char *intro;
    const char *unpaid;       /* {1} contributions, {2} amount */
    const char *calls;        /* {1} calls, {2} due date */
    const char *litigation_until; /* {1} date */
    const char *litigation_open;
    const char *basis;
    const char *then;
    const char *complaint;
    const char *closing;
    const char *signature;
};

static const struct letter_text texts[] = {
    {"fr", "Votre demande d'effacement de données personnelles", "À l'attention de {1}", "Date : {1}",
     "Madame, Monsieur,",
     "Nous avons bien reçu votre demande d'effacement de vos données personnelles (RGPD, art. 17). "
     "Nous ne pouvons pas y donner suite pour l'instant, pour les raisons suivantes :",
     "• {1} contribution(s) aux charges restent impayées (total {2} EUR). Ce motif prend fin dès leur paiement.",
     "• {1} appel(s) de fonds de votre immeuble sont en cours. Ce motif prend fin après leur échéance du {2}.",
     "• Une procédure judiciaire est en cours. Ce motif prend fin le {1}.",
     "• Une procédure judiciaire est en cours. Ce motif prend fin à la clôture de la procédure.",
     "Ces données doivent être conservées pour respecter une obligation légale de l'association des "
     "copropriétaires (RGPD, art. 17, §3, b) ou pour la constatation, l'exercice ou la défense de droits en "
     "justice (art. 17, §3, e). Aucune donnée n'a été modifiée.",
     "Dès que ces motifs auront pris fin, votre demande pourra être exécutée ; il vous suffira de la renouveler.",
     "Vous avez le droit d'introduire une réclamation auprès de l'Autorité de protection des données (APD), "
     "rue de la Presse 35, 1000 Bruxelles, contact@apd-gba.be, www.autoriteprotectiondonnees.be (RGPD, art. 77).",
     "Veuillez agréer, Madame, Monsieur, nos salutations distinguées.", "Le syndic"},
    {"nl", "Uw verzoek tot wissing van persoonsgegevens", "Ter attentie van {1}", "Datum: {1}", "Geachte heer, mevrouw,",
     "Wij hebben uw verzoek tot wissing van uw persoonsgegevens (AVG, art. 17) goed ontvangen. Wij kunnen er "
     "op dit moment niet op ingaan, om de volgende redenen:",
     "• {1} bijdrage(n) in de lasten blijven onbetaald (totaal {2} EUR). Deze reden vervalt zodra ze betaald zijn.",
     "• {1} opvraging(en) van fondsen van uw gebouw lopen nog. Deze reden vervalt na de vervaldag van {2}.",
     "• Er loopt een gerechtelijke procedure. Deze reden vervalt op {1}.",
     "• Er loopt een gerechtelijke procedure. Deze reden vervalt bij het einde van de procedure.",
     "Deze gegevens moeten bewaard worden om een wettelijke verplichting van de vereniging van mede-eigenaars na "
     "te komen (AVG, art. 17, lid 3, b) of voor de instelling, uitoefening of onderbouwing van een "
     "rechtsvordering (art. 17, lid 3, e). Er werden geen gegevens gewijzigd.",
     "Zodra deze redenen vervallen zijn, kan uw verzoek uitgevoerd worden; u hoeft het dan enkel te herhalen.",
     "U hebt het recht een klacht in te dienen bij de Gegevensbeschermingsautoriteit (GBA), Drukpersstraat 35, "
     "1000 Brussel, contact@apd-gba.be, www.gegevensbeschermingsautoriteit.be (AVG, art. 77).",
     "Met vriendelijke groeten.", "De syndicus"},
    {"de", "Ihr Antrag auf Löschung personenbezogener Daten", "Zu Händen von {1}", "Datum: {1}",
     "Sehr geehrte Damen und Herren,",
     "Wir haben Ihren Antrag auf Löschung Ihrer personenbezogenen Daten (DSGVO, Art. 17) erhalten. Wir können "
     "ihm derzeit aus folgenden Gründen nicht nachkommen:",
     "• {1} Beitrag/Beiträge zu den Lasten sind unbezahlt (insgesamt {2} EUR). Dieser Grund entfällt mit der Zahlung.",
     "• {1} Zahlungsaufforderung(en) Ihres Gebäudes laufen noch. Dieser Grund entfällt nach der Fälligkeit am {2}.",
     "• Ein Gerichtsverfahren ist anhängig. Dieser Grund entfällt am {1}.",
     "• Ein Gerichtsverfahren ist anhängig. Dieser Grund entfällt mit dem Abschluss des Verfahrens.",
     "Diese Daten müssen zur Erfüllung einer rechtlichen Verpflichtung der Vereinigung der Miteigentümer "
     "(DSGVO, Art. 17 Abs. 3 Buchst. b) oder zur Geltendmachung, Ausübung oder Verteidigung von "
     "Rechtsansprüchen (Art. 17 Abs. 3 Buchst. e) aufbewahrt werden. Es wurden keine Daten geändert.",
     "Sobald diese Gründe entfallen sind, kann Ihr Antrag ausgeführt werden; Sie müssen ihn dann nur erneuern.",
     "Sie haben das Recht, Beschwerde bei der Datenschutzbehörde (DSB/APD), Rue de la Presse 35, 1000 Brüssel, "
     "contact@apd-gba.be, einzureichen (DSGVO, Art. 77).",
     "Mit freundlichen Grüßen", "Der Syndikus"},
    {"en", "Your request for erasure of personal data", "To {1}", "Date: {1}", "Dear Sir or Madam,",
     "We have received your request to erase your personal data (GDPR art. 17). We cannot act on it for now, "
     "for the following reasons:",
     "• {1} contribution(s) to the charges remain unpaid (total EUR {2}). This reason ends once they are paid.",
     "• {1} call(s) for funds of your building are open. This reason ends after their due date of {2}.",
     "• Legal proceedings are pending. This reason ends on {1}.",
     "• Legal proceedings are pending. This reason ends when the proceedings are closed.",
     "This data must be kept to comply with a legal obligation of the association of co-owners (GDPR art. "
     "17(3)(b)) or for the establishment, exercise or defence of legal claims (art. 17(3)(e)). No data was "
     "changed.",
     "Once these reasons have ended, your request can be carried out; you only need to renew it.",
     "You have the right to lodge a complaint with the Belgian Data Protection Authority (APD/GBA), Rue de la "
     "Presse 35, 1000 Brussels, contact@apd-gba.be (GDPR art. 77).",
     "Yours faithfully,", "The syndic"},
};

/* Copy tmpl into out with "{1}" and "{2}" replaced by a1 and a2 (no printf formats from data). */
static void fill(char *out, size_t n, const char *tmpl, const char *a1, const char *a2)
{
    size_t j = 0;
    for (const char *p = tmpl; *p != '\0' && j + 1 < n;) {
        const char *a = strncmp(p, "{1}", 3) == 0 ? a1 : strncmp(p, "{2}", 3) == 0 ? a2 : NULL;
        if (a != NULL) {
            for (; *a != '\0' && j + 1 < n; a++)
                out[j++] = *a;
            p += 3;
        } else {
            out[j++] = *p++;
        }
    }
    out[j] = '\0';
}

int kopro_gdpr_hold_letter(unsigned char **pdf_out, size_t *pdf_bytes_out,
                           const struct kopro_gdpr_erase_report *report, const char *font_dir,
                           long long date_utc)
{
    struct kopro_pdf *d = NULL;
    struct kopro_pdf_options o;
    const struct letter_text *t = &texts[0];
    char line[1024], day[16], num[24];
    int rc = 0;
    *pdf_out = NULL;
    *pdf_bytes_out = 0;
    if (report == NULL || !report->held)
        return kopro_error_set(KOPRO_EINVAL, "GDPR letter: the erasure was not refused by a hold; no letter");
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        if (strcmp(texts[i].lang, report->lang) == 0)
            t = &texts[i];
    time_t when = (time_t)date_utc;
    struct tm tm;
    gmtime_r(&when, &tm);
    strftime(day, sizeof day, "%Y-%m-%d", &tm);

    memset(&o, 0, sizeof o);
    o.font_dir = font_dir;
    o.final = 1;
    o.title = t->title;
    o.created_utc = when;
    rc = kopro_pdf_new(&d, &o);
    if (rc != 0)
        goto done;
    rc = kopro_pdf_text(d, KOPRO_PDF_H1, KOPRO_PDF_LEFT, t->title);
    fill(line, sizeof line, t->to, report->person_name[0] ? report->person_name : "-", NULL);
    rc = rc ? rc : kopro_pdf_text(d, KOPRO_PDF_BODY, KOPRO_PDF_LEFT, line);
    fill(line, sizeof line, t->date, day, NULL);
    rc = rc ? rc : kopro_pdf_text(d, KOPRO_PDF_BODY, KOPRO_PDF_LEFT, line);
    rc = rc ? rc : kopro_pdf_space(d, 14);
    rc = rc ? rc : kopro_pdf_text(d, KOPRO_PDF_BODY, KOPRO_PDF_LEFT, t->salutation);
    rc = rc ? rc : kopro_pdf_space(d, 6);
    rc = rc ? rc : kopro_pdf_text(d, KOPRO_PDF_BODY, KOPRO_PDF_LEFT, t->intro);
    rc = rc ? rc : kopro_pdf_space(d, 6);
    if (rc == 0 && report->unpaid_count > 0) {
        snprintf(num, sizeof num, "%ld", report->unpaid_count);
        fill(line, sizeof line, t->unpaid, num, report->unpaid_amount);
        rc = kopro_pdf_text(d, KOPRO_PDF_BODY, KOPRO_PDF_LEFT, line);
    }
    if (rc == 0 && report->pending_calls > 0) {
        snprintf(num, sizeof num, "%ld", report->pending_calls);
        fill(line, sizeof line, t->calls, num, report->pending_until);
        rc = kopro_pdf_text(d, KOPRO_PDF_BODY, KOPRO_PDF_LEFT, line);
    }
    if (rc == 0 && report->litigation) {
        if (report->litigation_until[0] != '\0')
            fill(line, sizeof line, t->litigation_until, report->litigation_until, NULL);
        else
            snprintf(line, sizeof line, "%s", t->litigation_open);
        rc = kopro_pdf_text(d, KOPRO_PDF_BODY, KOPRO_PDF_LEFT, line);
    }
    rc = rc ? rc : kopro_pdf_space(d, 6);
    rc = rc ? rc : kopro_pdf_text(d, KOPRO_PDF_BODY, KOPRO_PDF_LEFT, t->basis);
    rc = rc ? rc : kopro_pdf_space(d, 6);
    rc = rc ? rc : kopro_pdf_text(d, KOPRO_PDF_BODY, KOPRO_PDF_LEFT, t->then);
    rc = rc ? rc : kopro_pdf_space(d, 6);
    rc = rc ? rc : kopro_pdf_text(d, KOPRO_PDF_BODY, KOPRO_PDF_LEFT, t->complaint);
    rc = rc ? rc : kopro_pdf_space(d, 12);
    rc = rc ? rc : kopro_pdf_text(d, KOPRO_PDF_BODY, KOPRO_PDF_LEFT, t->closing);
    rc = rc ? rc : kopro_pdf_space(d, 18);
    rc = rc ? rc : kopro_pdf_keep_begin(d);
    rc = rc ? rc : kopro_pdf_signature(d, t->signature);
    rc = rc ? rc : kopro_pdf_keep_end(d);
    rc = rc ? rc : kopro_pdf_render(pdf_out, pdf_bytes_out, NULL, d);
done:
    explicit_bzero(line, sizeof line);
    kopro_pdf_free(d);
    return rc;
}
