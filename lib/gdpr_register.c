/*
 * lib/gdpr_register.c — the personal-data register: every column of
 * KoproGo's tables (tests/fixtures/koprogo-schema.sql) with its category,
 * legal basis, retention class and erasure action. The export and the erasure
 * read this table; neither keeps its own list. tests/unit/test_gdpr_register.c
 * fails when a column of the schema is missing here.
 *
 * Reading guide:
 *   - Building, meeting, resolution, expense, budget and chart-of-accounts
 *     columns describe the co-ownership, not a person: category none, kept.
 *   - Owners' names are kept as a stable pseudonym where the record must stay
 *     (votes, accounts: Code civil art. 3.87 §10, CDE art. III.86/III.88);
 *     their contact columns are deleted.
 *   - Accounting rows (contributions, payments, charge distributions,
 *     ownership history) are kept restricted (GDPR art. 18) for the
 *     accounting retention, then purged.
 *   - Votes, attendance and proxies are kept restricted as long as the
 *     association exists (the minutes name who voted against or abstained).
 *   - IP addresses and user agents are deleted; the audit trail and proof of
 *     consent (GDPR art. 5(2), 7(1)) are kept restricted for 7 years.
 *   - exported = 0: password_hash (a secret, not information about the
 *     person), journal entries (the association's books; the person's share
 *     is exported from contributions and charge distributions) and the état
 *     daté (the association's statement to a notary).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kopro/config.h"
#include "kopro/error.h"
#include "kopro/gdpr.h"

#define CAT(x) KOPRO_GDPR_CAT_##x
#define BASIS(x) KOPRO_GDPR_BASIS_##x
#define RET(x) KOPRO_GDPR_RET_##x
#define ACT(x) KOPRO_GDPR_ACT_##x

/* Sorted by table, then column (kopro_gdpr_register_find() relies on it). */
static const struct kopro_gdpr_column reg[] = {
    {"accounts", "account_type", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"accounts", "code", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"accounts", "created_at", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"accounts", "direct_use", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"accounts", "id", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"accounts", "label", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"accounts", "organization_id", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"accounts", "parent_code", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"accounts", "updated_at", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"audit_logs", "created_at", CAT(TECHNICAL), BASIS(LEGITIMATE), RET(AUDIT), ACT(KEEP_RESTRICTED), 1},
    {"audit_logs", "error_message", CAT(TECHNICAL), BASIS(LEGITIMATE), RET(AUDIT), ACT(KEEP_RESTRICTED), 1},
    {"audit_logs", "event_type", CAT(TECHNICAL), BASIS(LEGITIMATE), RET(AUDIT), ACT(KEEP_RESTRICTED), 1},
    {"audit_logs", "id", CAT(TECHNICAL), BASIS(LEGITIMATE), RET(AUDIT), ACT(KEEP_RESTRICTED), 1},
    {"audit_logs", "ip_address", CAT(TECHNICAL), BASIS(LEGITIMATE), RET(UNTIL_ERASURE), ACT(DELETE), 1},
    {"audit_logs", "metadata", CAT(TECHNICAL), BASIS(LEGITIMATE), RET(AUDIT), ACT(KEEP_RESTRICTED), 1},
    {"audit_logs", "organization_id", CAT(TECHNICAL), BASIS(LEGITIMATE), RET(AUDIT), ACT(KEEP_RESTRICTED), 1},
    {"audit_logs", "resource_id", CAT(TECHNICAL), BASIS(LEGITIMATE), RET(AUDIT), ACT(KEEP_RESTRICTED), 1},
    {"audit_logs", "resource_type", CAT(TECHNICAL), BASIS(LEGITIMATE), RET(AUDIT), ACT(KEEP_RESTRICTED), 1},
    {"audit_logs", "retention_until", CAT(TECHNICAL), BASIS(LEGITIMATE), RET(AUDIT), ACT(KEEP_RESTRICTED), 1},
    {"audit_logs", "success", CAT(TECHNICAL), BASIS(LEGITIMATE), RET(AUDIT), ACT(KEEP_RESTRICTED), 1},
    {"audit_logs", "timestamp", CAT(TECHNICAL), BASIS(LEGITIMATE), RET(AUDIT), ACT(KEEP_RESTRICTED), 1},
    {"audit_logs", "user_agent", CAT(TECHNICAL), BASIS(LEGITIMATE), RET(UNTIL_ERASURE), ACT(DELETE), 1},
    {"audit_logs", "user_id", CAT(TECHNICAL), BASIS(LEGITIMATE), RET(AUDIT), ACT(KEEP_RESTRICTED), 1},
    {"budgets", "approved_by_meeting_id", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"budgets", "approved_date", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"budgets", "building_id", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"budgets", "created_at", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"budgets", "extraordinary_budget", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"budgets", "fiscal_year", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"budgets", "id", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"budgets", "monthly_provision_amount", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"budgets", "notes", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"budgets", "ordinary_budget", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"budgets", "organization_id", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"budgets", "status", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"budgets", "submitted_date", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"budgets", "total_budget", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"budgets", "updated_at", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"buildings", "address", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"buildings", "city", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"buildings", "construction_year", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"buildings", "country", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"buildings", "created_at", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"buildings", "id", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"buildings", "name", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"buildings", "organization_id", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"buildings", "postal_code", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"buildings", "slug", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"buildings", "syndic_address", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"buildings", "syndic_email", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"buildings", "syndic_emergency_contact", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"buildings", "syndic_name", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"buildings", "syndic_office_hours", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"buildings", "syndic_phone", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"buildings", "total_tantiemes", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"buildings", "total_units", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"buildings", "updated_at", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"call_for_funds", "account_code", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"call_for_funds", "building_id", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"call_for_funds", "call_date", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"call_for_funds", "contribution_type", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"call_for_funds", "created_at", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"call_for_funds", "created_by", CAT(TECHNICAL), BASIS(CONTRACT), RET(ACCOUNTING), ACT(KEEP), 1},
    {"call_for_funds", "description", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"call_for_funds", "due_date", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"call_for_funds", "id", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"call_for_funds", "notes", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"call_for_funds", "organization_id", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"call_for_funds", "sent_date", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"call_for_funds", "status", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"call_for_funds", "title", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"call_for_funds", "total_amount", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"call_for_funds", "updated_at", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"charge_distributions", "amount_due", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 1},
    {"charge_distributions", "created_at", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 1},
    {"charge_distributions", "expense_id", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 1},
    {"charge_distributions", "id", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 1},
    {"charge_distributions", "owner_id", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 1},
    {"charge_distributions", "quota_percentage", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 1},
    {"charge_distributions", "unit_id", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 1},
    {"consent_records", "accepted_at", CAT(TECHNICAL), BASIS(LEGAL), RET(AUDIT), ACT(KEEP_RESTRICTED), 1},
    {"consent_records", "consent_type", CAT(TECHNICAL), BASIS(LEGAL), RET(AUDIT), ACT(KEEP_RESTRICTED), 1},
    {"consent_records", "created_at", CAT(TECHNICAL), BASIS(LEGAL), RET(AUDIT), ACT(KEEP_RESTRICTED), 1},
    {"consent_records", "id", CAT(TECHNICAL), BASIS(LEGAL), RET(AUDIT), ACT(KEEP_RESTRICTED), 1},
    {"consent_records", "ip_address", CAT(TECHNICAL), BASIS(LEGITIMATE), RET(UNTIL_ERASURE), ACT(DELETE), 1},
    {"consent_records", "organization_id", CAT(TECHNICAL), BASIS(LEGAL), RET(AUDIT), ACT(KEEP_RESTRICTED), 1},
    {"consent_records", "policy_version", CAT(TECHNICAL), BASIS(LEGAL), RET(AUDIT), ACT(KEEP_RESTRICTED), 1},
    {"consent_records", "user_agent", CAT(TECHNICAL), BASIS(LEGITIMATE), RET(UNTIL_ERASURE), ACT(DELETE), 1},
    {"consent_records", "user_id", CAT(TECHNICAL), BASIS(LEGAL), RET(AUDIT), ACT(KEEP_RESTRICTED), 1},
    {"convocation_recipients", "attendance_status", CAT(VOTING), BASIS(LEGAL), RET(ASSOCIATION), ACT(KEEP_RESTRICTED), 1},
    {"convocation_recipients", "attendance_updated_at", CAT(VOTING), BASIS(LEGAL), RET(ASSOCIATION), ACT(KEEP_RESTRICTED), 1},
    {"convocation_recipients", "convocation_id", CAT(VOTING), BASIS(LEGAL), RET(ASSOCIATION), ACT(KEEP_RESTRICTED), 1},
    {"convocation_recipients", "created_at", CAT(VOTING), BASIS(LEGAL), RET(ASSOCIATION), ACT(KEEP_RESTRICTED), 1},
    {"convocation_recipients", "email", CAT(CONTACT), BASIS(LEGAL), RET(UNTIL_ERASURE), ACT(DELETE), 1},
    {"convocation_recipients", "email_sent_at", CAT(VOTING), BASIS(LEGAL), RET(ASSOCIATION), ACT(KEEP_RESTRICTED), 1},
    {"convocation_recipients", "id", CAT(VOTING), BASIS(LEGAL), RET(ASSOCIATION), ACT(KEEP_RESTRICTED), 1},
    {"convocation_recipients", "owner_id", CAT(VOTING), BASIS(LEGAL), RET(ASSOCIATION), ACT(KEEP_RESTRICTED), 1},
    {"convocation_recipients", "proxy_owner_id", CAT(VOTING), BASIS(LEGAL), RET(ASSOCIATION), ACT(KEEP_RESTRICTED), 1},
    {"convocation_recipients", "updated_at", CAT(VOTING), BASIS(LEGAL), RET(ASSOCIATION), ACT(KEEP_RESTRICTED), 1},
    {"convocations", "actual_send_date", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"convocations", "building_id", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"convocations", "created_at", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"convocations", "created_by", CAT(TECHNICAL), BASIS(CONTRACT), RET(ASSOCIATION), ACT(KEEP), 1},
    {"convocations", "first_meeting_id", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"convocations", "id", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"convocations", "language", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"convocations", "meeting_date", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"convocations", "meeting_id", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"convocations", "meeting_type", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"convocations", "minimum_send_date", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"convocations", "no_quorum_required", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"convocations", "organization_id", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"convocations", "pdf_file_path", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"convocations", "scheduled_send_date", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"convocations", "status", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"convocations", "total_recipients", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"convocations", "updated_at", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"documents", "building_id", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"documents", "created_at", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"documents", "description", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"documents", "document_type", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"documents", "file_path", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"documents", "file_size", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"documents", "id", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"documents", "mime_type", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"documents", "organization_id", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"documents", "related_expense_id", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"documents", "related_meeting_id", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"documents", "title", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"documents", "updated_at", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"documents", "uploaded_by", CAT(TECHNICAL), BASIS(CONTRACT), RET(ASSOCIATION), ACT(KEEP), 1},
    {"etats_dates", "additional_data", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 0},
    {"etats_dates", "approved_works_unpaid", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 0},
    {"etats_dates", "arrears_amount", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 0},
    {"etats_dates", "building_id", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 0},
    {"etats_dates", "created_at", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 0},
    {"etats_dates", "delivered_date", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 0},
    {"etats_dates", "generated_date", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 0},
    {"etats_dates", "id", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 0},
    {"etats_dates", "language", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 0},
    {"etats_dates", "monthly_provision_amount", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 0},
    {"etats_dates", "notary_email", CAT(CONTACT), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 0},
    {"etats_dates", "notary_name", CAT(CONTACT), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 0},
    {"etats_dates", "notary_phone", CAT(CONTACT), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 0},
    {"etats_dates", "organization_id", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 0},
    {"etats_dates", "owner_balance", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 0},
    {"etats_dates", "reference_date", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 0},
    {"etats_dates", "reference_number", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 0},
    {"etats_dates", "requested_date", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 0},
    {"etats_dates", "status", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 0},
    {"etats_dates", "total_balance", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 0},
    {"etats_dates", "unit_id", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 0},
    {"etats_dates", "updated_at", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 0},
    {"expenses", "account_code", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"expenses", "amount", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"expenses", "amount_excl_vat", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"expenses", "amount_incl_vat", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"expenses", "approval_status", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"expenses", "building_id", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"expenses", "category", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"expenses", "contractor_report_id", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"expenses", "created_at", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"expenses", "description", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"expenses", "due_date", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"expenses", "expense_date", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"expenses", "id", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"expenses", "invoice_date", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"expenses", "invoice_number", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"expenses", "organization_id", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"expenses", "paid_date", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"expenses", "payment_status", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"expenses", "supplier", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"expenses", "updated_at", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"expenses", "vat_amount", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"expenses", "vat_rate", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"journal_entries", "building_id", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 0},
    {"journal_entries", "contribution_id", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 0},
    {"journal_entries", "created_at", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 0},
    {"journal_entries", "created_by", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 0},
    {"journal_entries", "description", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(ANONYMIZE), 0},
    {"journal_entries", "document_ref", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 0},
    {"journal_entries", "entry_date", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 0},
    {"journal_entries", "expense_id", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 0},
    {"journal_entries", "id", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 0},
    {"journal_entries", "journal_type", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 0},
    {"journal_entries", "organization_id", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 0},
    {"journal_entries", "updated_at", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 0},
    {"journal_entry_lines", "account_code", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 0},
    {"journal_entry_lines", "created_at", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 0},
    {"journal_entry_lines", "credit", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 0},
    {"journal_entry_lines", "debit", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 0},
    {"journal_entry_lines", "description", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(ANONYMIZE), 0},
    {"journal_entry_lines", "id", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 0},
    {"journal_entry_lines", "journal_entry_id", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 0},
    {"journal_entry_lines", "organization_id", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 0},
    {"meeting_proxy_mandates", "created_at", CAT(VOTING), BASIS(LEGAL), RET(ASSOCIATION), ACT(KEEP_RESTRICTED), 1},
    {"meeting_proxy_mandates", "grantor_owner_id", CAT(VOTING), BASIS(LEGAL), RET(ASSOCIATION), ACT(KEEP_RESTRICTED), 1},
    {"meeting_proxy_mandates", "id", CAT(VOTING), BASIS(LEGAL), RET(ASSOCIATION), ACT(KEEP_RESTRICTED), 1},
    {"meeting_proxy_mandates", "is_active", CAT(VOTING), BASIS(LEGAL), RET(ASSOCIATION), ACT(KEEP_RESTRICTED), 1},
    {"meeting_proxy_mandates", "meeting_id", CAT(VOTING), BASIS(LEGAL), RET(ASSOCIATION), ACT(KEEP_RESTRICTED), 1},
    {"meeting_proxy_mandates", "proxy_holder_id", CAT(VOTING), BASIS(LEGAL), RET(ASSOCIATION), ACT(KEEP_RESTRICTED), 1},
    {"meeting_proxy_mandates", "voting_power", CAT(VOTING), BASIS(LEGAL), RET(ASSOCIATION), ACT(KEEP_RESTRICTED), 1},
    {"meetings", "agenda", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"meetings", "attendees_count", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"meetings", "building_id", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"meetings", "created_at", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"meetings", "description", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"meetings", "id", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"meetings", "is_second_convocation", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"meetings", "location", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"meetings", "meeting_type", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"meetings", "minutes_document_id", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"meetings", "minutes_sent_at", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"meetings", "organization_id", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"meetings", "present_quotas", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"meetings", "quorum_percentage", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"meetings", "quorum_threshold_pct", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"meetings", "quorum_validated", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"meetings", "scheduled_date", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"meetings", "status", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"meetings", "title", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"meetings", "total_quotas", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"meetings", "updated_at", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"organizations", "contact_email", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"organizations", "contact_phone", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"organizations", "created_at", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"organizations", "id", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"organizations", "is_active", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"organizations", "is_seed_data", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"organizations", "max_buildings", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"organizations", "max_users", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"organizations", "name", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"organizations", "slug", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"organizations", "subscription_plan", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"organizations", "updated_at", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"owner_contributions", "account_code", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 1},
    {"owner_contributions", "amount", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 1},
    {"owner_contributions", "call_for_funds_id", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 1},
    {"owner_contributions", "contribution_date", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 1},
    {"owner_contributions", "contribution_type", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 1},
    {"owner_contributions", "created_at", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 1},
    {"owner_contributions", "created_by", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 1},
    {"owner_contributions", "description", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(ANONYMIZE), 1},
    {"owner_contributions", "id", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 1},
    {"owner_contributions", "notes", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(ANONYMIZE), 1},
    {"owner_contributions", "organization_id", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 1},
    {"owner_contributions", "owner_id", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 1},
    {"owner_contributions", "payment_date", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 1},
    {"owner_contributions", "payment_method", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 1},
    {"owner_contributions", "payment_reference", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 1},
    {"owner_contributions", "payment_status", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 1},
    {"owner_contributions", "unit_id", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 1},
    {"owner_contributions", "updated_at", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 1},
    {"owners", "address", CAT(CONTACT), BASIS(LEGAL), RET(UNTIL_ERASURE), ACT(DELETE), 1},
    {"owners", "anonymized_at", CAT(TECHNICAL), BASIS(LEGAL), RET(ASSOCIATION), ACT(KEEP), 1},
    {"owners", "city", CAT(CONTACT), BASIS(LEGAL), RET(UNTIL_ERASURE), ACT(DELETE), 1},
    {"owners", "country", CAT(CONTACT), BASIS(LEGAL), RET(UNTIL_ERASURE), ACT(DELETE), 1},
    {"owners", "created_at", CAT(TECHNICAL), BASIS(LEGAL), RET(ASSOCIATION), ACT(KEEP), 1},
    {"owners", "email", CAT(CONTACT), BASIS(LEGAL), RET(UNTIL_ERASURE), ACT(DELETE), 1},
    {"owners", "first_name", CAT(IDENTITY), BASIS(LEGAL), RET(ASSOCIATION), ACT(ANONYMIZE), 1},
    {"owners", "id", CAT(IDENTITY), BASIS(LEGAL), RET(ASSOCIATION), ACT(KEEP), 1},
    {"owners", "is_anonymized", CAT(TECHNICAL), BASIS(LEGAL), RET(ASSOCIATION), ACT(KEEP), 1},
    {"owners", "last_name", CAT(IDENTITY), BASIS(LEGAL), RET(ASSOCIATION), ACT(ANONYMIZE), 1},
    {"owners", "organization_id", CAT(TECHNICAL), BASIS(LEGAL), RET(ASSOCIATION), ACT(KEEP), 1},
    {"owners", "phone", CAT(CONTACT), BASIS(LEGAL), RET(UNTIL_ERASURE), ACT(DELETE), 1},
    {"owners", "postal_code", CAT(CONTACT), BASIS(LEGAL), RET(UNTIL_ERASURE), ACT(DELETE), 1},
    {"owners", "updated_at", CAT(TECHNICAL), BASIS(LEGAL), RET(ASSOCIATION), ACT(KEEP), 1},
    {"owners", "user_id", CAT(IDENTITY), BASIS(CONTRACT), RET(UNTIL_ERASURE), ACT(KEEP), 1},
    {"payment_reminders", "amount_owed", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 1},
    {"payment_reminders", "created_at", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 1},
    {"payment_reminders", "days_overdue", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 1},
    {"payment_reminders", "delivery_method", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 1},
    {"payment_reminders", "due_date", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 1},
    {"payment_reminders", "expense_id", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 1},
    {"payment_reminders", "id", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 1},
    {"payment_reminders", "level", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 1},
    {"payment_reminders", "notes", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(ANONYMIZE), 1},
    {"payment_reminders", "organization_id", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 1},
    {"payment_reminders", "owner_contribution_id", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 1},
    {"payment_reminders", "owner_id", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 1},
    {"payment_reminders", "penalty_amount", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 1},
    {"payment_reminders", "sent_date", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 1},
    {"payment_reminders", "status", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 1},
    {"payment_reminders", "total_amount", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 1},
    {"payment_reminders", "updated_at", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 1},
    {"payments", "amount_cents", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 1},
    {"payments", "building_id", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 1},
    {"payments", "created_at", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 1},
    {"payments", "currency", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 1},
    {"payments", "description", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(ANONYMIZE), 1},
    {"payments", "expense_id", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 1},
    {"payments", "failed_at", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 1},
    {"payments", "id", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 1},
    {"payments", "organization_id", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 1},
    {"payments", "owner_contribution_id", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 1},
    {"payments", "owner_id", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 1},
    {"payments", "payment_method_type", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 1},
    {"payments", "reference", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 1},
    {"payments", "refunded_amount_cents", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 1},
    {"payments", "status", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 1},
    {"payments", "succeeded_at", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 1},
    {"payments", "updated_at", CAT(FINANCIAL), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 1},
    {"resolutions", "created_at", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"resolutions", "description", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"resolutions", "id", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"resolutions", "majority_required", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"resolutions", "meeting_id", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"resolutions", "resolution_type", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"resolutions", "status", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"resolutions", "title", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"resolutions", "total_voting_power_abstention", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"resolutions", "total_voting_power_contre", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"resolutions", "total_voting_power_pour", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"resolutions", "vote_count_abstention", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"resolutions", "vote_count_contre", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"resolutions", "vote_count_pour", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"resolutions", "voted_at", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"unit_owners", "created_at", CAT(OWNERSHIP), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 1},
    {"unit_owners", "end_date", CAT(OWNERSHIP), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 1},
    {"unit_owners", "id", CAT(OWNERSHIP), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 1},
    {"unit_owners", "is_primary_contact", CAT(OWNERSHIP), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 1},
    {"unit_owners", "owner_id", CAT(OWNERSHIP), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 1},
    {"unit_owners", "ownership_percentage", CAT(OWNERSHIP), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 1},
    {"unit_owners", "start_date", CAT(OWNERSHIP), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 1},
    {"unit_owners", "unit_id", CAT(OWNERSHIP), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 1},
    {"unit_owners", "updated_at", CAT(OWNERSHIP), BASIS(LEGAL), RET(ACCOUNTING), ACT(KEEP_RESTRICTED), 1},
    {"units", "building_id", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"units", "created_at", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"units", "floor", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"units", "id", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"units", "organization_id", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"units", "owner_id", CAT(OWNERSHIP), BASIS(LEGAL), RET(ASSOCIATION), ACT(KEEP_RESTRICTED), 1},
    {"units", "quota", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"units", "surface_area", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"units", "unit_number", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"units", "unit_type", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"units", "updated_at", CAT(NONE), BASIS(NONE), RET(NONE), ACT(KEEP), 1},
    {"user_roles", "created_at", CAT(TECHNICAL), BASIS(CONTRACT), RET(UNTIL_ERASURE), ACT(DELETE), 1},
    {"user_roles", "id", CAT(TECHNICAL), BASIS(CONTRACT), RET(UNTIL_ERASURE), ACT(DELETE), 1},
    {"user_roles", "is_primary", CAT(TECHNICAL), BASIS(CONTRACT), RET(UNTIL_ERASURE), ACT(DELETE), 1},
    {"user_roles", "organization_id", CAT(TECHNICAL), BASIS(CONTRACT), RET(UNTIL_ERASURE), ACT(DELETE), 1},
    {"user_roles", "role", CAT(TECHNICAL), BASIS(CONTRACT), RET(UNTIL_ERASURE), ACT(DELETE), 1},
    {"user_roles", "updated_at", CAT(TECHNICAL), BASIS(CONTRACT), RET(UNTIL_ERASURE), ACT(DELETE), 1},
    {"user_roles", "user_id", CAT(TECHNICAL), BASIS(CONTRACT), RET(UNTIL_ERASURE), ACT(DELETE), 1},
    {"users", "anonymized_at", CAT(TECHNICAL), BASIS(CONTRACT), RET(UNTIL_ERASURE), ACT(KEEP), 1},
    {"users", "created_at", CAT(TECHNICAL), BASIS(CONTRACT), RET(UNTIL_ERASURE), ACT(KEEP), 1},
    {"users", "email", CAT(CONTACT), BASIS(CONTRACT), RET(UNTIL_ERASURE), ACT(DELETE), 1},
    {"users", "first_name", CAT(IDENTITY), BASIS(CONTRACT), RET(UNTIL_ERASURE), ACT(ANONYMIZE), 1},
    {"users", "id", CAT(IDENTITY), BASIS(CONTRACT), RET(ASSOCIATION), ACT(KEEP), 1},
    {"users", "is_active", CAT(TECHNICAL), BASIS(CONTRACT), RET(UNTIL_ERASURE), ACT(KEEP), 1},
    {"users", "is_anonymized", CAT(TECHNICAL), BASIS(CONTRACT), RET(UNTIL_ERASURE), ACT(KEEP), 1},
    {"users", "last_name", CAT(IDENTITY), BASIS(CONTRACT), RET(UNTIL_ERASURE), ACT(ANONYMIZE), 1},
    {"users", "marketing_opt_out", CAT(TECHNICAL), BASIS(CONSENT), RET(UNTIL_ERASURE), ACT(KEEP), 1},
    {"users", "marketing_opt_out_at", CAT(TECHNICAL), BASIS(CONSENT), RET(UNTIL_ERASURE), ACT(KEEP), 1},
    {"users", "organization_id", CAT(TECHNICAL), BASIS(CONTRACT), RET(UNTIL_ERASURE), ACT(KEEP), 1},
    {"users", "password_hash", CAT(TECHNICAL), BASIS(CONTRACT), RET(UNTIL_ERASURE), ACT(DELETE), 0},
    {"users", "processing_restricted", CAT(TECHNICAL), BASIS(CONTRACT), RET(UNTIL_ERASURE), ACT(KEEP), 1},
    {"users", "processing_restricted_at", CAT(TECHNICAL), BASIS(CONTRACT), RET(UNTIL_ERASURE), ACT(KEEP), 1},
    {"users", "role", CAT(TECHNICAL), BASIS(CONTRACT), RET(UNTIL_ERASURE), ACT(KEEP), 1},
    {"users", "updated_at", CAT(TECHNICAL), BASIS(CONTRACT), RET(UNTIL_ERASURE), ACT(KEEP), 1},
    {"votes", "id", CAT(VOTING), BASIS(LEGAL), RET(ASSOCIATION), ACT(KEEP_RESTRICTED), 1},
    {"votes", "owner_id", CAT(VOTING), BASIS(LEGAL), RET(ASSOCIATION), ACT(KEEP_RESTRICTED), 1},
    {"votes", "proxy_owner_id", CAT(VOTING), BASIS(LEGAL), RET(ASSOCIATION), ACT(KEEP_RESTRICTED), 1},
    {"votes", "resolution_id", CAT(VOTING), BASIS(LEGAL), RET(ASSOCIATION), ACT(KEEP_RESTRICTED), 1},
    {"votes", "unit_id", CAT(VOTING), BASIS(LEGAL), RET(ASSOCIATION), ACT(KEEP_RESTRICTED), 1},
    {"votes", "vote_choice", CAT(VOTING), BASIS(LEGAL), RET(ASSOCIATION), ACT(KEEP_RESTRICTED), 1},
    {"votes", "voted_at", CAT(VOTING), BASIS(LEGAL), RET(ASSOCIATION), ACT(KEEP_RESTRICTED), 1},
    {"votes", "voting_power", CAT(VOTING), BASIS(LEGAL), RET(ASSOCIATION), ACT(KEEP_RESTRICTED), 1},
};

static const struct kopro_gdpr_category_info categories[KOPRO_GDPR_CAT_COUNT] = {
    [KOPRO_GDPR_CAT_NONE] = {"none", "Describes the co-ownership, not a person.", "-", "-",
                             "Kept with the association's records."},
    [KOPRO_GDPR_CAT_IDENTITY] =
        {"identity",
         "Identify each co-owner in the register of owners, the attendance lists and the minutes "
         "of the general assembly, and in the accounts.",
         "GDPR art. 6(1)(c): legal obligation of the association and its syndic (Code civil "
         "art. 3.84-3.100); art. 6(1)(b) for the platform account.",
         "The syndic, the accountant, the statutory auditor (commissaire aux comptes), other "
         "co-owners through the minutes, notaries for a sale (etat date).",
         "Names are kept as long as the association exists in the minutes and for the accounting "
         "period in the accounts; after erasure only as a stable pseudonym."},
    [KOPRO_GDPR_CAT_CONTACT] =
        {"contact",
         "Send convocations, minutes, calls for funds and reminders.",
         "GDPR art. 6(1)(c) (the syndic must convene every owner, Code civil art. 3.87 §3) and "
         "6(1)(b) for the platform account.",
         "The syndic and its mail and e-mail providers.",
         "Until erasure; deleted by an erasure."},
    [KOPRO_GDPR_CAT_OWNERSHIP] =
        {"ownership",
         "Know who holds which lot and with which share (quote-part), to compute votes and "
         "charges.",
         "GDPR art. 6(1)(c): Code civil art. 3.85-3.88.",
         "The syndic, the accountant, notaries for a sale.",
         "Accounting retention (default 7 years, Code de droit economique art. III.86/III.88) "
         "after the ownership ends; restricted after an erasure."},
    [KOPRO_GDPR_CAT_FINANCIAL] =
        {"financial",
         "Keep the association's accounts: calls for funds, contributions, payments, the share "
         "of each charge, reminders.",
         "GDPR art. 6(1)(c): AR 12 July 2012 (accounts of co-owners' associations), Code de "
         "droit economique art. III.86/III.88.",
         "The syndic, the accountant, the statutory auditor, the bank, the insurer for a claim.",
         "Accounting retention: 7 years by default (Code de droit economique art. III.86/III.88; "
         "tax and VAT law say 10, configurable with KOPRO_GDPR_ACCOUNTING_YEARS); restricted "
         "after an erasure, then purged."},
    [KOPRO_GDPR_CAT_VOTING] =
        {"voting",
         "Record attendance, proxies and votes of the general assembly; the minutes must name "
         "the owners who voted against or abstained (Code civil art. 3.87 §10).",
         "GDPR art. 6(1)(c): Code civil art. 3.87-3.88.",
         "The syndic, all co-owners through the minutes.",
         "As long as the association exists (the minutes are its permanent record); "
         "restricted after an erasure."},
    [KOPRO_GDPR_CAT_TECHNICAL] =
        {"technical",
         "Run the platform account, prove consents and keep an audit trail of sensitive "
         "actions.",
         "GDPR art. 6(1)(b) for the account, 6(1)(f) for security, art. 7(1) and 5(2) for proof "
         "of consent and accountability.",
         "The platform operator (KoproGo) and its hosting provider.",
         "Account data until erasure; audit entries and consent records 7 years "
         "(audit_logs.retention_until); IP addresses and user agents deleted by an erasure."},
};

const struct kopro_gdpr_column *kopro_gdpr_register(size_t *n_out)
{
    if (n_out != NULL)
        *n_out = sizeof reg / sizeof reg[0];
    return reg;
}

static int cmp_entry(const void *key, const void *elem)
{
    const struct kopro_gdpr_column *k = key, *e = elem;
    int c = strcmp(k->table, e->table);
    return c != 0 ? c : strcmp(k->column, e->column);
}

const struct kopro_gdpr_column *kopro_gdpr_register_find(const char *table, const char *column)
{
    struct kopro_gdpr_column key = {0};
    if (table == NULL || column == NULL)
        return NULL;
    key.table = table;
    key.column = column;
    return bsearch(&key, reg, sizeof reg / sizeof reg[0], sizeof reg[0], cmp_entry);
}

const char *kopro_gdpr_category_name(enum kopro_gdpr_category c)
{
    return c >= 0 && c < KOPRO_GDPR_CAT_COUNT ? categories[c].name : "unknown";
}

const struct kopro_gdpr_category_info *kopro_gdpr_category_describe(enum kopro_gdpr_category c)
{
    return c >= 0 && c < KOPRO_GDPR_CAT_COUNT ? &categories[c] : NULL;
}

const char *kopro_gdpr_basis_name(enum kopro_gdpr_basis b)
{
    switch (b) {
    case KOPRO_GDPR_BASIS_NONE: return "none";
    case KOPRO_GDPR_BASIS_CONTRACT: return "art. 6(1)(b) contract";
    case KOPRO_GDPR_BASIS_LEGAL: return "art. 6(1)(c) legal obligation";
    case KOPRO_GDPR_BASIS_LEGITIMATE: return "art. 6(1)(f) legitimate interests";
    case KOPRO_GDPR_BASIS_CONSENT: return "art. 6(1)(a) consent";
    }
    return "unknown";
}

const char *kopro_gdpr_retention_name(enum kopro_gdpr_retention r)
{
    switch (r) {
    case KOPRO_GDPR_RET_NONE: return "none";
    case KOPRO_GDPR_RET_UNTIL_ERASURE: return "until_erasure";
    case KOPRO_GDPR_RET_ACCOUNTING: return "accounting";
    case KOPRO_GDPR_RET_ASSOCIATION: return "association_lifetime";
    case KOPRO_GDPR_RET_AUDIT: return "audit_7_years";
    }
    return "unknown";
}

const char *kopro_gdpr_action_name(enum kopro_gdpr_action a)
{
    switch (a) {
    case KOPRO_GDPR_ACT_KEEP: return "keep";
    case KOPRO_GDPR_ACT_DELETE: return "delete";
    case KOPRO_GDPR_ACT_ANONYMIZE: return "anonymize";
    case KOPRO_GDPR_ACT_KEEP_RESTRICTED: return "keep_restricted";
    }
    return "unknown";
}

int kopro_gdpr_accounting_years(int *years_out, const struct kopro_config *cfg)
{
    const char *v = kopro_config_get(cfg, "KOPRO_GDPR_ACCOUNTING_YEARS", "7");
    char *end = NULL;
    errno = 0;
    long y = strtol(v, &end, 10);
    if (errno != 0 || end == v || *end != '\0' || y < 1 || y > 30)
        return kopro_error_set(KOPRO_EINVAL,
                               "KOPRO_GDPR_ACCOUNTING_YEARS='%s' is not a number of years from 1 to "
                               "30; leave it unset for the legal minimum of 7 (CDE art. III.88)",
                               v);
    *years_out = (int)y;
    return 0;
}
