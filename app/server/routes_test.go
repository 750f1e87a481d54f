package server_test

import (
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/gofiber/fiber/v2"

	"moat/app/store"
	"moat/models"
)

// class says how the attack tests treat a route. Every route Fiber serves must have one: a new
// route fails the suite until it is classified here, with a reason.
type class int

const (
	public class = iota // signed-out visitors may use it; needs a reason
	page                // signed in, no record id, reads only
	list                // signed in, lists tenant data: attacked with hostile search terms
	action              // signed in, changes state, no record id
	record              // signed in, names a record by id: attacked with foreign ids
)

type routeClass struct {
	class  class
	reason string // why a public route is public
	kind   string // the kind of record a record route takes: a key of fixtures
}

var classes = map[string]routeClass{
	"GET /healthz":                         {class: public, reason: "orchestrators probe it"},
	"GET /readyz":                          {class: public, reason: "orchestrators probe it; it names no tenant data"},
	"GET /audit/export":                    {class: list},
	"GET /":                                {class: public, reason: "redirects to /customers, which asks for sign-in"},
	"GET /signup":                          {class: public, reason: "creating an organization comes before any session"},
	"POST /signup":                         {class: public, reason: "creating an organization comes before any session"},
	"GET /signup/sent":                     {class: public, reason: "says to check the inbox, the same for every address"},
	"GET /signup/confirm/:token":           {class: public, reason: "an emailed link: the token, which only the inbox holds, is the credential"},
	"POST /signup/confirm/:token":          {class: public, reason: "an emailed link: the token, which only the inbox holds, is the credential"},
	"GET /login":                           {class: public, reason: "signing in comes before any session"},
	"POST /login":                          {class: public, reason: "signing in comes before any session"},
	"GET /login/organization":              {class: public, reason: "chooses among the organizations the signed-in account's session was given"},
	"POST /login/organization":             {class: public, reason: "chooses among the organizations the signed-in account's session was given"},
	"GET /password/forgot":                 {class: public, reason: "a forgotten password comes before any session"},
	"POST /password/forgot":                {class: public, reason: "a forgotten password comes before any session"},
	"GET /password/sent":                   {class: public, reason: "says to check the inbox, the same for every address"},
	"GET /password/reset/:token":           {class: public, reason: "an emailed link: the token, which only the inbox holds, is the credential"},
	"POST /password/reset/:token":          {class: public, reason: "an emailed link: the token, which only the inbox holds, is the credential"},
	"GET /invitations/:token":              {class: public, reason: "an emailed link: the token, which only the inbox holds, is the credential"},
	"POST /invitations/:token":             {class: public, reason: "an emailed link: the token, which only the inbox holds, is the credential"},
	"GET /dev/outbox":                      {class: public, reason: "development only: the mail that would have been sent"},
	"POST /logout":                         {class: action},
	"GET /customers":                       {class: list},
	"GET /customers/new":                   {class: page},
	"POST /customers":                      {class: action},
	"GET /customers/:id":                   {class: record, kind: "customer"},
	"GET /customers/:id/edit":              {class: record, kind: "customer"},
	"POST /customers/:id":                  {class: record, kind: "customer"},
	"PUT /customers/:id":                   {class: record, kind: "customer"},
	"POST /customers/:id/delete":           {class: record, kind: "customer"},
	"DELETE /customers/:id":                {class: record, kind: "customer"},
	"POST /customers/duplicates":           {class: action},
	"POST /customers/columns":              {class: action},
	"POST /customers/bulk":                 {class: action},
	"POST /customers/export":               {class: action},
	"GET /customers/trash":                 {class: list},
	"POST /customers/trash/restore":        {class: action},
	"POST /customers/trash/purge":          {class: action},
	"POST /customers/trash/empty":          {class: action},
	"POST /customers/:id/restore":          {class: record, kind: "trashed customer"},
	"POST /customers/:id/notes":            {class: record, kind: "customer"},
	"GET /invoices":                        {class: list},
	"GET /invoices/new":                    {class: page},
	"GET /invoices/export":                 {class: list},
	"POST /invoices":                       {class: action},
	"POST /invoices/preview":               {class: action},
	"GET /invoices/:id":                    {class: record, kind: "invoice"},
	"GET /invoices/:id/edit":               {class: record, kind: "draft invoice"},
	"GET /invoices/:id/print":              {class: record, kind: "invoice"},
	"GET /invoices/:id/pdf":                {class: record, kind: "invoice"},
	"POST /invoices/:id":                   {class: record, kind: "draft invoice"},
	"POST /invoices/:id/delete":            {class: record, kind: "draft invoice"},
	"POST /invoices/:id/finalize":          {class: record, kind: "draft invoice"},
	"POST /invoices/:id/payments":          {class: record, kind: "invoice"},
	"POST /invoices/:id/void":              {class: record, kind: "invoice"},
	"POST /invoices/:id/uncollectible":     {class: record, kind: "invoice"},
	"POST /invoices/:id/credit":            {class: record, kind: "invoice"},
	"GET /products":                        {class: list},
	"GET /products/new":                    {class: page},
	"GET /products/trash":                  {class: list},
	"POST /products":                       {class: action},
	"GET /products/:id":                    {class: record, kind: "product"},
	"GET /products/:id/edit":               {class: record, kind: "product"},
	"POST /products/:id":                   {class: record, kind: "product"},
	"POST /products/:id/delete":            {class: record, kind: "product"},
	"POST /products/:id/restore":           {class: record, kind: "trashed product"},
	"POST /products/:id/stock":             {class: record, kind: "product"},
	"POST /stock/movements/:id/reverse":    {class: record, kind: "movement"},
	"GET /warehouses":                      {class: page},
	"POST /warehouses":                     {class: action},
	"POST /warehouses/:id":                 {class: record, kind: "warehouse"},
	"POST /settings/stock":                 {class: action},
	"GET /tags":                            {class: page},
	"POST /tags":                           {class: action},
	"POST /tags/:id/delete":                {class: record, kind: "tag"},
	"GET /audit":                           {class: list},
	"GET /imports":                         {class: list},
	"POST /imports":                        {class: action},
	"POST /imports/parts":                  {class: action},
	"GET /imports/:id":                     {class: record, kind: "import"},
	"GET /imports/:id/progress":            {class: record, kind: "import"},
	"GET /imports/:id/errors.csv":          {class: record, kind: "import"},
	"POST /imports/:id/parts/:seq":         {class: record, kind: "receiving import"},
	"POST /imports/:id/finish":             {class: record, kind: "receiving import"},
	"POST /imports/:id/check":              {class: record, kind: "import"},
	"POST /imports/:id/run":                {class: record, kind: "import"},
	"POST /imports/:id/undo":               {class: record, kind: "import"},
	"GET /settings/api-tokens":             {class: page},
	"POST /settings/api-tokens":            {class: action},
	"POST /settings/api-tokens/:id/revoke": {class: record, kind: "api token"},
	"GET /settings/organization":           {class: page},
	"GET /settings/exports":                {class: page},
	"POST /settings/exports":               {class: action},
	"GET /settings/exports/:id":            {class: record, kind: "export"},
	"POST /settings/close":                 {class: action},
	"POST /settings/reopen":                {class: action},
	"POST /customers/:id/erase":            {class: record, kind: "customer"},
	"GET /account":                         {class: page},
	"POST /account/sessions/end-others":    {class: action},
	"POST /account/sessions/:id/end":       {class: record, kind: "session"},
	"POST /account/password":               {class: action},
	"GET /team":                            {class: page},
	"POST /team":                           {class: action},
	"POST /team/invitations/:id/revoke":    {class: record, kind: "invitation"},
	"POST /team/:id/role":                  {class: record, kind: "person"},
	"POST /team/:id/deactivate":            {class: record, kind: "person"},
	"POST /team/:id/reactivate":            {class: record, kind: "person"},
	"POST /team/:id/remove":                {class: record, kind: "person"},
}

type classifiedRoute struct {
	fiber.Route
	class class
	kind  string
}

func (r classifiedRoute) key() string { return r.Method + " " + r.Path }

// classify returns every page route the app serves, from Fiber's own route table, with its
// class. Fiber's automatic HEAD twins of GET routes share their GET's class and are attacked as
// GETs. Middleware mounted with Use (the static files under /static) is not a route. The API's
// routes are classified by classifyAPI.
func classify(t *testing.T, app *fiber.App) []classifiedRoute {
	t.Helper()
	var out []classifiedRoute
	served := map[string]bool{}
	for _, r := range app.GetRoutes(true) {
		key := r.Method + " " + r.Path
		if r.Method == "USE" || served[key] {
			continue
		}
		served[key] = true
		if r.Method == "HEAD" || strings.HasPrefix(r.Path, "/api/") {
			continue
		}
		c, ok := classes[key]
		switch {
		case !ok:
			t.Errorf("route %s has no class: add it to classes in routes_test.go", key)
			continue
		case c.class == public && c.reason == "":
			t.Errorf("public route %s needs a reason", key)
		case c.class == record && !strings.Contains(r.Path, ":id"):
			t.Errorf("record route %s takes no :id", key)
		case c.class != record && strings.Contains(r.Path, ":id"):
			t.Errorf("route %s takes an :id but is not classified as a record route", key)
		case c.class == record && fixtures[c.kind] == nil:
			t.Errorf("record route %s takes a %q, which fixtures cannot make: add it there", key, c.kind)
		}
		out = append(out, classifiedRoute{Route: r, class: c.class, kind: c.kind})
	}
	for key := range classes {
		if !served[key] {
			t.Errorf("classes lists %s, which the app no longer serves", key)
		}
	}
	if len(out) == 0 {
		t.Fatal("the route table is empty")
	}
	return out
}

func TestEveryRouteIsClassified(t *testing.T) {
	e := newEnv(t)
	routes := classify(t, e.app)
	var keys []string
	for _, r := range routes {
		keys = append(keys, r.key())
	}
	if !slices.Contains(keys, "GET /customers/:id") {
		t.Fatalf("route table without the customer page: %v", keys)
	}
}

// fill puts id in path, and the first part's number where a path takes one.
func fill(path, id string) string {
	return strings.ReplaceAll(strings.ReplaceAll(path, ":id", url.PathEscape(id)), ":seq", "0")
}

// fixtures make a record of each kind a record route takes, for tenant u with c signed in as its
// owner, and return its id: the attack suites use them for their own ids and for the other
// tenant's alike. There is no default: a kind without a fixture fails classify.
var fixtures = map[string]func(e *env, u tenantUser, c *client) string{
	"customer":         func(_ *env, _ tenantUser, c *client) string { return c.createCustomer("Target " + suffix()) },
	"trashed customer": func(_ *env, _ tenantUser, c *client) string { return c.trashedCustomer("Trashed " + suffix()) },
	"tag":              func(_ *env, _ tenantUser, c *client) string { return c.createTag("Tag " + suffix()) },
	"person": func(e *env, u tenantUser, _ *client) string {
		return e.addMember(u, "member-"+suffix()+"@"+strings.ToLower(u.Tenant.String()[:8])+".test")
	},
	"session": func(e *env, u tenantUser, _ *client) string {
		other := e.client()
		other.signIn(u.Email, password)
		return e.lastSession(u.UserID.String())
	},
	"draft invoice":   func(_ *env, _ tenantUser, c *client) string { return c.draftInvoice() },
	"invoice":         func(_ *env, _ tenantUser, c *client) string { return c.issuedInvoice() },
	"invitation":      func(e *env, u tenantUser, _ *client) string { return e.invite(u, "invited-"+suffix()+"@example.net") },
	"product":         func(_ *env, _ tenantUser, c *client) string { return c.createProduct("SKU-" + suffix()) },
	"trashed product": func(_ *env, _ tenantUser, c *client) string { return c.trashedProduct("GONE-" + suffix()) },
	"warehouse":       func(_ *env, _ tenantUser, c *client) string { return c.warehouse("Store " + suffix()) },
	"movement":        func(_ *env, _ tenantUser, c *client) string { return c.movement() },
	"import": func(_ *env, _ tenantUser, c *client) string {
		return c.uploadImport("name,email\nAda,ada@example.com\n")
	},
	"receiving import": func(_ *env, _ tenantUser, c *client) string { return c.beginImport() },
	"uploading import": func(_ *env, _ tenantUser, c *client) string {
		id := c.beginImport()
		if res, body := c.do("POST", "/imports/"+id+"/parts/0", "name,email\nAda,ada@example.com\n", "Content-Type", "application/octet-stream", "X-CSRF-Token", c.csrf); res.StatusCode != 204 {
			c.t.Fatalf("upload a part: %d %s", res.StatusCode, body)
		}
		return id
	},
	"checked import":  func(e *env, u tenantUser, c *client) string { return e.importedTo(u, c, models.ImportChecked) },
	"imported import": func(e *env, u tenantUser, c *client) string { return e.importedTo(u, c, models.ImportImported) },
	"export": func(e *env, u tenantUser, _ *client) string {
		s := store.NewExports(e.db.Gorm)
		ex, _, err := s.Request(u.Ctx)
		if err == nil {
			_, err = s.Build(u.Ctx, ex.ID)
		}
		if err != nil {
			e.t.Fatal(err)
		}
		return ex.ID.String()
	},
	"api token": func(e *env, u tenantUser, _ *client) string {
		_, tok, err := store.NewAPITokens(e.db.DB).Create(u.Ctx, models.APITokenInput{Name: "Fixture " + suffix(), Customers: "read"}, e.clock.Now())
		if err != nil {
			e.t.Fatal(err)
		}
		return tok.ID.String()
	},
}

// record makes a record of r's kind for u.
func (e *env) record(r classifiedRoute, u tenantUser, c *client) string {
	e.t.Helper()
	make, ok := fixtures[r.kind]
	if !ok {
		e.t.Fatalf("route %s takes a %q, which fixtures cannot make", r.key(), r.kind)
	}
	return make(e, u, c)
}

func suffix() string { return uuid.NewString()[:8] }

// importedTo uploads a one-row import for u and takes it, as the job workers would, to status
// (checked or imported), returning its id.
func (e *env) importedTo(u tenantUser, c *client, status string) string {
	e.t.Helper()
	id := c.uploadImport("name,email\nAda " + suffix() + ",ada." + suffix() + "@example.com\n")
	s := store.NewImports(e.db.Gorm)
	err := s.Configure(u.Ctx, id, store.ImportSettings{Mapping: map[string]string{"0": "name", "1": "email"}, Mode: "create", Key: "email"})
	if err == nil {
		err = s.Process(u.Ctx, models.ParseID(id), true)
	}
	if err == nil && status == models.ImportImported {
		if err = s.Start(u.Ctx, id); err == nil {
			err = s.Process(u.Ctx, models.ParseID(id), false)
		}
	}
	if err != nil {
		e.t.Fatal(err)
	}
	return id
}
