package audit

import (
	"fmt"
	"slices"
	"strings"
)

// Action names an audited operation as the trail records it: entity.verb. Every action Moat
// emits is one of the constants below, listed in the registry with what it is about and how a
// person reads it; Record refuses any other.
type Action string

// Entity names the kind of record an action is about.
type Entity string

// Kind groups actions for people reading the trail.
type Kind string

// The kinds of action.
const (
	KindChange Kind = "change" // creates, edits, deletions, team and account changes
	KindView   Kind = "view"   // reads of records and lists
	KindAccess Kind = "access" // signing in and out, sessions, refused requests
	KindExport Kind = "export" // data leaving Moat
)

// The entities.
const (
	EntityTenant     Entity = "tenant"
	EntityUser       Entity = "user"
	EntitySession    Entity = "session"
	EntityInvitation Entity = "invitation"
	EntityCustomer   Entity = "customer"
	EntityTag        Entity = "tag"
	EntityInvoice    Entity = "invoice"
	EntityProduct    Entity = "product"
	EntityWarehouse  Entity = "warehouse"
	EntityAPIToken   Entity = "api_token"
	EntityImport     Entity = "import"
	EntityExport     Entity = "export"
	EntityAudit      Entity = "audit"
	EntityPage       Entity = "page"
	EntityRequest    Entity = "request"
)

// The actions.
const (
	TenantSignUp Action = "tenant.sign_up"
	TenantView   Action = "tenant.view"
	TenantClose  Action = "tenant.close"
	TenantReopen Action = "tenant.reopen"

	AuthSignIn         Action = "auth.sign_in"
	AuthSignOut        Action = "auth.sign_out"
	SessionEnd         Action = "session.end"
	SessionEndOthers   Action = "session.end_others"
	UserList           Action = "user.list"
	UserInvite         Action = "user.invite"
	UserInviteRevoke   Action = "user.invite_revoke"
	UserJoin           Action = "user.join"
	UserRoleChange     Action = "user.role_change"
	UserDeactivate     Action = "user.deactivate"
	UserReactivate     Action = "user.reactivate"
	UserRemove         Action = "user.remove"
	UserPasswordChange Action = "user.password_change"
	UserPasswordReset  Action = "user.password_reset"
	SettingsColumns    Action = "settings.columns"

	CustomerList           Action = "customer.list"
	CustomerView           Action = "customer.view"
	CustomerCreate         Action = "customer.create"
	CustomerUpdate         Action = "customer.update"
	CustomerNote           Action = "customer.note"
	CustomerTrash          Action = "customer.trash"
	CustomerTrashList      Action = "customer.trash_list"
	CustomerRestore        Action = "customer.restore"
	CustomerPurge          Action = "customer.purge"
	CustomerTag            Action = "customer.tag"
	CustomerUntag          Action = "customer.untag"
	CustomerBulk           Action = "customer.bulk"
	CustomerBulkCount      Action = "customer.bulk_count"
	CustomerExport         Action = "customer.export"
	CustomerDuplicateCheck Action = "customer.duplicate_check"
	CustomerErase          Action = "customer.erase"

	TagList   Action = "tag.list"
	TagView   Action = "tag.view"
	TagCreate Action = "tag.create"
	TagDelete Action = "tag.delete"

	InvoiceList          Action = "invoice.list"
	InvoiceView          Action = "invoice.view"
	InvoiceCreate        Action = "invoice.create"
	InvoiceUpdate        Action = "invoice.update"
	InvoiceDelete        Action = "invoice.delete"
	InvoiceFinalize      Action = "invoice.finalize"
	InvoiceDocument      Action = "invoice.document"
	InvoicePayment       Action = "invoice.payment"
	InvoiceVoid          Action = "invoice.void"
	InvoiceUncollectible Action = "invoice.uncollectible"
	InvoiceCredit        Action = "invoice.credit"
	InvoiceExport        Action = "invoice.export"

	ProductList      Action = "product.list"
	ProductView      Action = "product.view"
	ProductCreate    Action = "product.create"
	ProductUpdate    Action = "product.update"
	ProductTrash     Action = "product.trash"
	ProductTrashList Action = "product.trash_list"
	ProductRestore   Action = "product.restore"
	ProductStock     Action = "product.stock"
	ProductReverse   Action = "product.stock_reverse"

	WarehouseList   Action = "warehouse.list"
	WarehouseCreate Action = "warehouse.create"
	WarehouseUpdate Action = "warehouse.update"
	SettingsStock   Action = "settings.negative_stock"

	ImportList     Action = "import.list"
	ImportUpload   Action = "import.upload"
	ImportPart     Action = "import.part"
	ImportDescribe Action = "import.describe"
	ImportView     Action = "import.view"
	ImportCheck    Action = "import.check"
	ImportRun      Action = "import.run"
	ImportDone     Action = "import.done"
	ImportErrors   Action = "import.errors"
	ImportRevert   Action = "import.revert"
	ImportUndone   Action = "import.undone"

	ExportList     Action = "export.list"
	ExportRequest  Action = "export.request"
	ExportBuilt    Action = "export.built"
	ExportDownload Action = "export.download"
	ExportExpire   Action = "export.expire"

	APITokenList   Action = "api_token.list"
	APITokenCreate Action = "api_token.create"
	APITokenRevoke Action = "api_token.revoke"
	APITokenUse    Action = "api_token.use"    // a use refused: revoked, expired, its person deactivated
	APIScope       Action = "api_token.scope"  // a call beyond the token's scopes
	APIIdempotent  Action = "api_token.replay" // a retried call answered from its first response

	AuditList   Action = "audit.list"
	AuditExport Action = "audit.export"

	PageView    Action = "page.view"    // a page the role may not see
	RequestCSRF Action = "request.csrf" // a state change refused for its CSRF token
)

// Meta is what the registry knows of an action.
type Meta struct {
	Action Action
	Entity Entity
	Kind   Kind
	Label  string // how the trail reads it, its record in braces: "viewed {a customer}"
}

// Words is the label as plain words, for a filter's choices: "viewed a customer".
func (m Meta) Words() string { return strings.NewReplacer("{", "", "}", "").Replace(m.Label) }

// registry is every action, in the order the trail's filter offers them.
var registry = []Meta{
	{TenantSignUp, EntityTenant, KindChange, "created the organization"},
	{TenantView, EntityTenant, KindView, "viewed the organization's settings"},
	{TenantClose, EntityTenant, KindChange, "closed the organization"},
	{TenantReopen, EntityTenant, KindChange, "cancelled the organization's closing"},
	{AuthSignIn, EntityUser, KindAccess, "signed in"},
	{AuthSignOut, EntitySession, KindAccess, "signed out"},
	{SessionEnd, EntitySession, KindAccess, "ended a session"},
	{SessionEndOthers, EntitySession, KindAccess, "ended their other sessions"},
	{UserList, EntityUser, KindView, "viewed the team"},
	{UserInvite, EntityInvitation, KindChange, "invited {someone}"},
	{UserInviteRevoke, EntityInvitation, KindChange, "withdrew {an invitation}"},
	{UserJoin, EntityUser, KindChange, "joined the organization"},
	{UserRoleChange, EntityUser, KindChange, "changed the role of {someone}"},
	{UserDeactivate, EntityUser, KindChange, "deactivated {someone}"},
	{UserReactivate, EntityUser, KindChange, "reactivated {someone}"},
	{UserRemove, EntityUser, KindChange, "removed {someone}"},
	{UserPasswordChange, EntityUser, KindAccess, "changed their password"},
	{UserPasswordReset, EntityUser, KindAccess, "reset their password"},
	{SettingsColumns, EntityUser, KindChange, "chose the list's columns"},
	{CustomerList, EntityCustomer, KindView, "listed customers"},
	{CustomerView, EntityCustomer, KindView, "viewed {a customer}"},
	{CustomerCreate, EntityCustomer, KindChange, "added {a customer}"},
	{CustomerUpdate, EntityCustomer, KindChange, "changed {a customer}"},
	{CustomerNote, EntityCustomer, KindChange, "added a note to {a customer}"},
	{CustomerTrash, EntityCustomer, KindChange, "moved {a customer} to the trash"},
	{CustomerTrashList, EntityCustomer, KindView, "viewed the trash"},
	{CustomerRestore, EntityCustomer, KindChange, "restored {a customer}"},
	{CustomerPurge, EntityCustomer, KindChange, "deleted {a customer} for good"},
	{CustomerTag, EntityCustomer, KindChange, "tagged {a customer}"},
	{CustomerUntag, EntityCustomer, KindChange, "untagged {a customer}"},
	{CustomerBulk, EntityCustomer, KindChange, "asked for a bulk action"},
	{CustomerBulkCount, EntityCustomer, KindView, "counted a selection"},
	{CustomerExport, EntityCustomer, KindExport, "exported customers"},
	{CustomerDuplicateCheck, EntityCustomer, KindView, "checked for duplicates"},
	{CustomerErase, EntityCustomer, KindChange, "erased the personal data of {a customer}"},
	{TagList, EntityTag, KindView, "listed tags"},
	{TagView, EntityTag, KindView, "viewed {a tag}"},
	{TagCreate, EntityTag, KindChange, "added {a tag}"},
	{TagDelete, EntityTag, KindChange, "deleted {a tag}"},
	{InvoiceList, EntityInvoice, KindView, "listed invoices"},
	{InvoiceView, EntityInvoice, KindView, "viewed {an invoice}"},
	{InvoiceCreate, EntityInvoice, KindChange, "drafted {an invoice}"},
	{InvoiceUpdate, EntityInvoice, KindChange, "changed {a draft invoice}"},
	{InvoiceDelete, EntityInvoice, KindChange, "deleted {a draft invoice}"},
	{InvoiceFinalize, EntityInvoice, KindChange, "finalized {an invoice}"},
	{InvoiceDocument, EntityInvoice, KindChange, "stored the PDF of {an invoice}"},
	{InvoicePayment, EntityInvoice, KindChange, "recorded a payment on {an invoice}"},
	{InvoiceVoid, EntityInvoice, KindChange, "voided {an invoice}"},
	{InvoiceUncollectible, EntityInvoice, KindChange, "marked {an invoice} uncollectible"},
	{InvoiceCredit, EntityInvoice, KindChange, "issued a credit note for {an invoice}"},
	{InvoiceExport, EntityInvoice, KindExport, "exported invoices"},
	{ProductList, EntityProduct, KindView, "listed products"},
	{ProductView, EntityProduct, KindView, "viewed {a product}"},
	{ProductCreate, EntityProduct, KindChange, "added {a product}"},
	{ProductUpdate, EntityProduct, KindChange, "changed {a product}"},
	{ProductTrash, EntityProduct, KindChange, "moved {a product} to the trash"},
	{ProductTrashList, EntityProduct, KindView, "viewed the products' trash"},
	{ProductRestore, EntityProduct, KindChange, "restored {a product}"},
	{ProductStock, EntityProduct, KindChange, "moved stock of {a product}"},
	{ProductReverse, EntityProduct, KindChange, "reversed a stock movement of {a product}"},
	{WarehouseList, EntityWarehouse, KindView, "viewed the warehouses"},
	{WarehouseCreate, EntityWarehouse, KindChange, "added {a warehouse}"},
	{WarehouseUpdate, EntityWarehouse, KindChange, "changed {a warehouse}"},
	{SettingsStock, EntityTenant, KindChange, "changed whether stock may go negative"},
	{ImportList, EntityImport, KindView, "listed imports"},
	{ImportUpload, EntityImport, KindChange, "began uploading {a file to import}"},
	{ImportPart, EntityImport, KindChange, "uploaded part of {a file to import}"},
	{ImportDescribe, EntityImport, KindChange, "uploaded {a file to import}"},
	{ImportView, EntityImport, KindView, "viewed {an import}"},
	{ImportCheck, EntityImport, KindChange, "mapped and checked {an import}"},
	{ImportRun, EntityImport, KindChange, "started {an import}"},
	{ImportDone, EntityImport, KindChange, "finished {an import}"},
	{ImportErrors, EntityImport, KindExport, "downloaded the refused rows of {an import}"},
	{ImportRevert, EntityImport, KindChange, "started undoing {an import}"},
	{ImportUndone, EntityImport, KindChange, "undid {an import}"},
	{ExportList, EntityExport, KindView, "viewed the full exports"},
	{ExportRequest, EntityExport, KindExport, "asked for {a full export}"},
	{ExportBuilt, EntityExport, KindExport, "built {a full export}"},
	{ExportDownload, EntityExport, KindExport, "downloaded {a full export}"},
	{ExportExpire, EntityExport, KindChange, "deleted {an expired export}"},
	{APITokenList, EntityAPIToken, KindView, "viewed the API tokens"},
	{APITokenCreate, EntityAPIToken, KindChange, "created {an API token}"},
	{APITokenRevoke, EntityAPIToken, KindChange, "revoked {an API token}"},
	{APITokenUse, EntityAPIToken, KindAccess, "used {an API token} that no longer works"},
	{APIScope, EntityAPIToken, KindAccess, "called the API beyond a token's scopes"},
	{APIIdempotent, EntityRequest, KindAccess, "retried an API call"},
	{AuditList, EntityAudit, KindView, "read the audit trail"},
	{AuditExport, EntityAudit, KindExport, "exported the audit trail"},
	{PageView, EntityPage, KindAccess, "opened {a page}"},
	{RequestCSRF, EntityRequest, KindAccess, "sent {a request} without a valid form token"},
}

// Actions lists every action, in the registry's order.
func Actions() []Meta { return slices.Clone(registry) }

// Lookup returns what the registry knows of a; ok is false for an action it does not list.
func Lookup(a Action) (Meta, bool) {
	m, ok := byAction[a]
	return m, ok
}

// Entities lists every entity that has an action, in the registry's order.
func Entities() []Entity {
	var out []Entity
	for _, m := range registry {
		if !slices.Contains(out, m.Entity) {
			out = append(out, m.Entity)
		}
	}
	return out
}

// complete refuses an action the registry does not list, fills in e's entity from the registry
// when e names none, and returns the action's kind.
func complete(e *Event) (Kind, error) {
	m, ok := byAction[e.Action]
	if !ok {
		return "", fmt.Errorf("audit: action %q is not in the registry", e.Action)
	}
	if e.Entity == "" {
		e.Entity = m.Entity
	}
	return m.Kind, nil
}

// byAction is the registry by action, for Record, which runs on every request.
var byAction = func() map[Action]Meta {
	m := make(map[Action]Meta, len(registry))
	for _, meta := range registry {
		m[meta.Action] = meta
	}
	return m
}()
