-- +goose Up
-- Removing a member who had made a finalized invoice failed: the invoice's guard refused the
-- ON DELETE SET NULL that clears its author (created_by), as it refuses every change to a
-- finalized invoice. It now lets that one change through once the person is gone.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION public.invoices_guard()
 RETURNS trigger
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'public'
AS $function$
DECLARE
    -- ON DELETE SET NULL clearing the author of an invoice whose author was just removed from
    -- the team: the one change a finalized invoice takes that is not its own. Only once the
    -- person is gone, so nobody can clear an author who is still a member.
    author_gone boolean := NEW.created_by IS NULL AND OLD.created_by IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM users u WHERE u.tenant_id = OLD.tenant_id AND u.id = OLD.created_by);
BEGIN
    IF tenant_purging(OLD.tenant_id) THEN
        IF TG_OP = 'DELETE' THEN
            RETURN OLD;
        END IF;
        RETURN NEW; -- its author's deletion clears created_by
    END IF;
    IF TG_OP = 'DELETE' THEN
        IF OLD.status <> 'draft' THEN
            RAISE EXCEPTION 'invoice %: only drafts may be deleted', OLD.number USING ERRCODE = 'P0001';
        END IF;
        RETURN OLD;
    END IF;
    IF NEW.tenant_id <> OLD.tenant_id OR NEW.id <> OLD.id OR NEW.kind <> OLD.kind THEN
        RAISE EXCEPTION 'invoice %: its identity does not change', OLD.id USING ERRCODE = 'P0001';
    END IF;
    IF OLD.status = 'draft' THEN
        IF NEW.status NOT IN ('draft', 'open') THEN
            RAISE EXCEPTION 'invoice %: a draft can only be finalized', OLD.id USING ERRCODE = 'P0001';
        END IF;
        RETURN NEW;
    END IF;
    IF (NEW.customer_id, NEW.number, NEW.number_year, NEW.number_seq, NEW.currency, NEW.prices_include_tax, NEW.rounding,
        NEW.exchange_rate, NEW.payment_terms, NEW.issue_date, NEW.due_date, NEW.customer_name, NEW.customer_number,
        NEW.customer_address, NEW.customer_tax_id, NEW.seller_name, NEW.net_total, NEW.tax_total, NEW.total,
        NEW.credits_invoice_id, CASE WHEN author_gone THEN OLD.created_by ELSE NEW.created_by END, NEW.created_at, NEW.finalized_at)
       IS DISTINCT FROM
       (OLD.customer_id, OLD.number, OLD.number_year, OLD.number_seq, OLD.currency, OLD.prices_include_tax, OLD.rounding,
        OLD.exchange_rate, OLD.payment_terms, OLD.issue_date, OLD.due_date, OLD.customer_name, OLD.customer_number,
        OLD.customer_address, OLD.customer_tax_id, OLD.seller_name, OLD.net_total, OLD.tax_total, OLD.total,
        OLD.credits_invoice_id, OLD.created_by, OLD.created_at, OLD.finalized_at) THEN
        RAISE EXCEPTION 'invoice %: it is finalized and cannot change; issue a credit note', OLD.number USING ERRCODE = 'P0001';
    END IF;
    IF NEW.status <> OLD.status AND NOT (OLD.status, NEW.status) IN (
        ('open', 'paid'), ('open', 'void'), ('open', 'uncollectible'), ('uncollectible', 'paid'), ('uncollectible', 'void')) THEN
        RAISE EXCEPTION 'invoice %: it cannot go from % to %', OLD.number, OLD.status, NEW.status USING ERRCODE = 'P0001';
    END IF;
    IF NEW.amount_paid < OLD.amount_paid OR NEW.amount_credited < OLD.amount_credited THEN
        RAISE EXCEPTION 'invoice %: payments and credits are never taken back', OLD.number USING ERRCODE = 'P0001';
    END IF;
    RETURN NEW;
END
$function$;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION public.invoices_guard()
 RETURNS trigger
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'public'
AS $function$
BEGIN
    IF tenant_purging(OLD.tenant_id) THEN
        IF TG_OP = 'DELETE' THEN
            RETURN OLD;
        END IF;
        RETURN NEW; -- its author's deletion clears created_by
    END IF;
    IF TG_OP = 'DELETE' THEN
        IF OLD.status <> 'draft' THEN
            RAISE EXCEPTION 'invoice %: only drafts may be deleted', OLD.number USING ERRCODE = 'P0001';
        END IF;
        RETURN OLD;
    END IF;
    IF NEW.tenant_id <> OLD.tenant_id OR NEW.id <> OLD.id OR NEW.kind <> OLD.kind THEN
        RAISE EXCEPTION 'invoice %: its identity does not change', OLD.id USING ERRCODE = 'P0001';
    END IF;
    IF OLD.status = 'draft' THEN
        IF NEW.status NOT IN ('draft', 'open') THEN
            RAISE EXCEPTION 'invoice %: a draft can only be finalized', OLD.id USING ERRCODE = 'P0001';
        END IF;
        RETURN NEW;
    END IF;
    IF (NEW.customer_id, NEW.number, NEW.number_year, NEW.number_seq, NEW.currency, NEW.prices_include_tax, NEW.rounding,
        NEW.exchange_rate, NEW.payment_terms, NEW.issue_date, NEW.due_date, NEW.customer_name, NEW.customer_number,
        NEW.customer_address, NEW.customer_tax_id, NEW.seller_name, NEW.net_total, NEW.tax_total, NEW.total,
        NEW.credits_invoice_id, NEW.created_by, NEW.created_at, NEW.finalized_at)
       IS DISTINCT FROM
       (OLD.customer_id, OLD.number, OLD.number_year, OLD.number_seq, OLD.currency, OLD.prices_include_tax, OLD.rounding,
        OLD.exchange_rate, OLD.payment_terms, OLD.issue_date, OLD.due_date, OLD.customer_name, OLD.customer_number,
        OLD.customer_address, OLD.customer_tax_id, OLD.seller_name, OLD.net_total, OLD.tax_total, OLD.total,
        OLD.credits_invoice_id, OLD.created_by, OLD.created_at, OLD.finalized_at) THEN
        RAISE EXCEPTION 'invoice %: it is finalized and cannot change; issue a credit note', OLD.number USING ERRCODE = 'P0001';
    END IF;
    IF NEW.status <> OLD.status AND NOT (OLD.status, NEW.status) IN (
        ('open', 'paid'), ('open', 'void'), ('open', 'uncollectible'), ('uncollectible', 'paid'), ('uncollectible', 'void')) THEN
        RAISE EXCEPTION 'invoice %: it cannot go from % to %', OLD.number, OLD.status, NEW.status USING ERRCODE = 'P0001';
    END IF;
    IF NEW.amount_paid < OLD.amount_paid OR NEW.amount_credited < OLD.amount_credited THEN
        RAISE EXCEPTION 'invoice %: payments and credits are never taken back', OLD.number USING ERRCODE = 'P0001';
    END IF;
    RETURN NEW;
END
$function$;
-- +goose StatementEnd
