-- +goose Up
-- Invoices and credit notes. A draft carries no number; finalizing assigns the next one of its
-- series in the same transaction (a locked counter row, so numbers have no gaps and no
-- duplicates) and freezes everything a customer received: lines, amounts, currency, exchange
-- rate, dates and a snapshot of both parties. Triggers refuse any later change to those, for
-- the app and for raw SQL alike; only the status (along its allowed transitions), payments,
-- credits and notes move. Corrections are credit notes, which reference the original.

-- The currency amounts are kept in, for reports across currencies.
ALTER TABLE tenants ADD COLUMN base_currency text NOT NULL DEFAULT 'EUR' CHECK (base_currency ~ '^[A-Z]{3}$');

-- One numbering series per kind of document and tenant: a prefix, in which {YYYY} stands for
-- the year of issue, and whether numbering starts again each year.
CREATE TABLE invoice_series (
    tenant_id uuid    NOT NULL REFERENCES tenants (id),
    kind      text    NOT NULL CHECK (kind IN ('invoice', 'credit_note')),
    prefix    text    NOT NULL CHECK (length(prefix) BETWEEN 1 AND 30 AND prefix ~ '^[A-Za-z0-9/_.{}-]+$'),
    yearly    boolean NOT NULL DEFAULT true,
    PRIMARY KEY (tenant_id, kind)
);

-- The last number given in each series and year (year 0 when numbering never restarts).
CREATE TABLE invoice_counters (
    tenant_id uuid    NOT NULL,
    kind      text    NOT NULL,
    year      integer NOT NULL,
    last      bigint  NOT NULL CHECK (last > 0),
    PRIMARY KEY (tenant_id, kind, year),
    FOREIGN KEY (tenant_id, kind) REFERENCES invoice_series (tenant_id, kind)
);

CREATE TABLE invoices (
    tenant_id          uuid          NOT NULL REFERENCES tenants (id),
    id                 uuid          NOT NULL DEFAULT gen_random_uuid(),
    kind               text          NOT NULL DEFAULT 'invoice' CHECK (kind IN ('invoice', 'credit_note')),
    status             text          NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'open', 'paid', 'void', 'uncollectible')),
    customer_id        uuid          NOT NULL,
    number             text          CHECK (length(number) BETWEEN 1 AND 50),
    number_year        integer,
    number_seq         bigint,
    currency           text          NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    prices_include_tax boolean       NOT NULL DEFAULT false,
    rounding           text          NOT NULL DEFAULT 'line' CHECK (rounding IN ('line', 'document')),
    -- Units of the tenant's base currency one unit of this currency is worth, as agreed.
    exchange_rate      numeric(18,8) NOT NULL DEFAULT 1 CHECK (exchange_rate > 0),
    payment_terms      integer       NOT NULL DEFAULT 30 CHECK (payment_terms BETWEEN 0 AND 365),
    issue_date         date,
    due_date           date,
    -- Both parties as the document shows them; frozen at finalization.
    customer_name      text          NOT NULL DEFAULT '' CHECK (length(customer_name) <= 200),
    customer_number    text          NOT NULL DEFAULT '' CHECK (length(customer_number) <= 30),
    customer_address   text          NOT NULL DEFAULT '' CHECK (length(customer_address) <= 1000),
    customer_tax_id    text          NOT NULL DEFAULT '' CHECK (length(customer_tax_id) <= 50),
    seller_name        text          NOT NULL DEFAULT '' CHECK (length(seller_name) <= 200),
    notes              text          NOT NULL DEFAULT '' CHECK (length(notes) <= 5000),
    net_total          numeric(19,4) NOT NULL DEFAULT 0,
    tax_total          numeric(19,4) NOT NULL DEFAULT 0,
    total              numeric(19,4) NOT NULL DEFAULT 0 CHECK (total >= 0),
    amount_paid        numeric(19,4) NOT NULL DEFAULT 0 CHECK (amount_paid >= 0),
    amount_credited    numeric(19,4) NOT NULL DEFAULT 0 CHECK (amount_credited >= 0),
    -- A credit note's original invoice.
    credits_invoice_id uuid,
    created_by         uuid,
    created_at         timestamptz   NOT NULL DEFAULT now(),
    updated_at         timestamptz   NOT NULL DEFAULT now(),
    finalized_at       timestamptz,
    paid_at            timestamptz,
    voided_at          timestamptz,
    uncollectible_at   timestamptz,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id),
    FOREIGN KEY (tenant_id, credits_invoice_id) REFERENCES invoices (tenant_id, id),
    FOREIGN KEY (tenant_id, created_by) REFERENCES users (tenant_id, id) ON DELETE SET NULL (created_by),
    CHECK ((status = 'draft') = (number IS NULL)),
    CHECK ((status = 'draft') = (issue_date IS NULL)),
    CHECK ((kind = 'credit_note') = (credits_invoice_id IS NOT NULL)),
    -- Nobody pays, or is credited, more than is due.
    CHECK (amount_paid + amount_credited <= total)
);
CREATE UNIQUE INDEX invoices_tenant_number ON invoices (tenant_id, kind, number) WHERE number IS NOT NULL;
CREATE UNIQUE INDEX invoices_tenant_sequence ON invoices (tenant_id, kind, number_year, number_seq) WHERE number_seq IS NOT NULL;
-- The list's orders, each with the id as its tie-break, and a customer's invoices.
CREATE INDEX invoices_tenant_created ON invoices (tenant_id, created_at, id);
CREATE INDEX invoices_tenant_issued ON invoices (tenant_id, issue_date, id);
CREATE INDEX invoices_tenant_due ON invoices (tenant_id, due_date, id);
CREATE INDEX invoices_tenant_customer ON invoices (tenant_id, customer_id, created_at DESC);
-- Search by number prefix: text_pattern_ops ranges, which row level security lets the index serve.
CREATE INDEX invoices_tenant_number_prefix ON invoices (tenant_id, number text_pattern_ops);

CREATE TABLE invoice_lines (
    tenant_id   uuid          NOT NULL,
    invoice_id  uuid          NOT NULL,
    id          uuid          NOT NULL DEFAULT gen_random_uuid(),
    position    integer       NOT NULL CHECK (position BETWEEN 1 AND 200),
    description text          NOT NULL CHECK (length(description) BETWEEN 1 AND 1000),
    quantity    numeric(18,4) NOT NULL CHECK (quantity > 0),
    unit_price  numeric(19,4) NOT NULL CHECK (unit_price >= 0),
    discount    numeric(5,2)  NOT NULL DEFAULT 0 CHECK (discount BETWEEN 0 AND 100),
    tax_rate    numeric(6,3)  NOT NULL DEFAULT 0 CHECK (tax_rate BETWEEN 0 AND 100),
    -- Worked out from the above and kept, so the document shows what was computed at the time.
    net         numeric(19,4) NOT NULL,
    tax         numeric(19,4) NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, invoice_id, position),
    FOREIGN KEY (tenant_id, invoice_id) REFERENCES invoices (tenant_id, id) ON DELETE CASCADE
);

-- Money received against an invoice. Recorded, never changed: a mistake is corrected by a
-- credit note.
CREATE TABLE invoice_payments (
    tenant_id  uuid          NOT NULL,
    id         uuid          NOT NULL DEFAULT gen_random_uuid(),
    invoice_id uuid          NOT NULL,
    amount     numeric(19,4) NOT NULL CHECK (amount > 0),
    paid_on    date          NOT NULL,
    method     text          NOT NULL DEFAULT '' CHECK (length(method) <= 50),
    reference  text          NOT NULL DEFAULT '' CHECK (length(reference) <= 200),
    created_by uuid,
    created_at timestamptz   NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, invoice_id) REFERENCES invoices (tenant_id, id),
    FOREIGN KEY (tenant_id, created_by) REFERENCES users (tenant_id, id) ON DELETE SET NULL (created_by)
);
CREATE INDEX invoice_payments_invoice ON invoice_payments (tenant_id, invoice_id, paid_on);

-- The PDF each finalized document was rendered to, once: never rendered again.
CREATE TABLE invoice_documents (
    tenant_id  uuid        NOT NULL,
    invoice_id uuid        NOT NULL,
    pdf        bytea       NOT NULL,
    sha256     text        NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, invoice_id),
    FOREIGN KEY (tenant_id, invoice_id) REFERENCES invoices (tenant_id, id)
);

-- +goose StatementBegin
-- invoices_guard keeps a document as it was issued. A draft may change freely and become open
-- (finalized, with its number). After that only the status moves, along
--   open → paid | void | uncollectible,  uncollectible → paid | void,
-- with payments, credits, notes and the times of those moves; anything else is refused.
-- Only drafts may be deleted.
CREATE FUNCTION invoices_guard() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, public
    AS $$
BEGIN
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
$$;

-- invoice_lines_guard lets lines change only while their invoice is a draft.
CREATE FUNCTION invoice_lines_guard() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, public
    AS $$
DECLARE
    s text;
BEGIN
    SELECT status INTO s FROM invoices WHERE tenant_id = coalesce(NEW.tenant_id, OLD.tenant_id) AND id = coalesce(NEW.invoice_id, OLD.invoice_id);
    -- A draft being deleted takes its lines with it (the cascade finds it gone).
    IF s IS DISTINCT FROM 'draft' AND NOT (TG_OP = 'DELETE' AND s IS NULL) THEN
        RAISE EXCEPTION 'invoice lines change only on drafts' USING ERRCODE = 'P0001';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER invoices_guard BEFORE UPDATE OR DELETE ON invoices FOR EACH ROW EXECUTE FUNCTION invoices_guard();
CREATE TRIGGER invoice_lines_guard BEFORE INSERT OR UPDATE OR DELETE ON invoice_lines FOR EACH ROW EXECUTE FUNCTION invoice_lines_guard();
CREATE TRIGGER invoices_record_ids AFTER INSERT OR DELETE ON invoices FOR EACH ROW EXECUTE FUNCTION register_record_id();

ALTER TABLE invoice_series ENABLE ROW LEVEL SECURITY;
ALTER TABLE invoice_series FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON invoice_series
    USING (tenant_id = current_tenant_id()) WITH CHECK (tenant_id = current_tenant_id());
ALTER TABLE invoice_counters ENABLE ROW LEVEL SECURITY;
ALTER TABLE invoice_counters FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON invoice_counters
    USING (tenant_id = current_tenant_id()) WITH CHECK (tenant_id = current_tenant_id());
ALTER TABLE invoices ENABLE ROW LEVEL SECURITY;
ALTER TABLE invoices FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON invoices
    USING (tenant_id = current_tenant_id()) WITH CHECK (tenant_id = current_tenant_id());
ALTER TABLE invoice_lines ENABLE ROW LEVEL SECURITY;
ALTER TABLE invoice_lines FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON invoice_lines
    USING (tenant_id = current_tenant_id()) WITH CHECK (tenant_id = current_tenant_id());
ALTER TABLE invoice_payments ENABLE ROW LEVEL SECURITY;
ALTER TABLE invoice_payments FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON invoice_payments
    USING (tenant_id = current_tenant_id()) WITH CHECK (tenant_id = current_tenant_id());
ALTER TABLE invoice_documents ENABLE ROW LEVEL SECURITY;
ALTER TABLE invoice_documents FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON invoice_documents
    USING (tenant_id = current_tenant_id()) WITH CHECK (tenant_id = current_tenant_id());

GRANT SELECT, INSERT, UPDATE ON invoice_series, invoice_counters TO moat_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON invoices, invoice_lines TO moat_app;
-- Payments and documents are added, never changed or removed.
GRANT SELECT, INSERT ON invoice_payments, invoice_documents TO moat_app;
GRANT UPDATE (base_currency) ON tenants TO moat_app;

-- +goose Down
REVOKE UPDATE (base_currency) ON tenants FROM moat_app;
DROP TRIGGER invoices_record_ids ON invoices;
DELETE FROM record_ids WHERE entity = 'invoices';
DROP TABLE invoice_documents;
DROP TABLE invoice_payments;
DROP TABLE invoice_lines;
DROP TABLE invoices;
DROP FUNCTION invoice_lines_guard();
DROP FUNCTION invoices_guard();
DROP TABLE invoice_counters;
DROP TABLE invoice_series;
ALTER TABLE tenants DROP COLUMN base_currency;
