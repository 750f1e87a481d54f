package server_test

import (
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
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
	reason string
}

var classes = map[string]routeClass{
	"GET /healthz":                      {public, "orchestrators probe it"},
	"GET /readyz":                       {public, "orchestrators probe it; it names no tenant data"},
	"GET /audit/export":                 {list, ""},
	"GET /":                             {public, "redirects to /customers, which asks for sign-in"},
	"GET /signup":                       {public, "creating an organization comes before any session"},
	"POST /signup":                      {public, "creating an organization comes before any session"},
	"GET /login":                        {public, "signing in comes before any session"},
	"POST /login":                       {public, "signing in comes before any session"},
	"POST /logout":                      {action, ""},
	"GET /customers":                    {list, ""},
	"GET /customers/new":                {page, ""},
	"POST /customers":                   {action, ""},
	"GET /customers/:id":                {record, ""},
	"GET /customers/:id/edit":           {record, ""},
	"POST /customers/:id":               {record, ""},
	"PUT /customers/:id":                {record, ""},
	"POST /customers/:id/delete":        {record, ""},
	"DELETE /customers/:id":             {record, ""},
	"POST /customers/duplicates":        {action, ""},
	"POST /customers/columns":           {action, ""},
	"POST /customers/bulk":              {action, ""},
	"POST /customers/export":            {action, ""},
	"GET /customers/trash":              {list, ""},
	"POST /customers/trash/restore":     {action, ""},
	"POST /customers/trash/purge":       {action, ""},
	"POST /customers/trash/empty":       {action, ""},
	"POST /customers/:id/restore":       {record, ""},
	"POST /customers/:id/notes":         {record, ""},
	"GET /tags":                         {page, ""},
	"POST /tags":                        {action, ""},
	"POST /tags/:id/delete":             {record, ""},
	"GET /audit":                        {list, ""},
	"GET /account":                      {page, ""},
	"POST /account/sessions/end-others": {action, ""},
	"POST /account/sessions/:id/end":    {record, ""},
	"GET /account/password":             {page, ""},
	"POST /account/password":            {action, ""},
	"GET /team":                         {page, ""},
	"POST /team":                        {action, ""},
	"POST /team/:id/role":               {record, ""},
	"POST /team/:id/deactivate":         {record, ""},
	"POST /team/:id/reactivate":         {record, ""},
	"POST /team/:id/remove":             {record, ""},
}

type classifiedRoute struct {
	fiber.Route
	class class
}

func (r classifiedRoute) key() string { return r.Method + " " + r.Path }

// classify returns every route the app serves, from Fiber's own route table, with its class.
// Fiber's automatic HEAD twins of GET routes share their GET's class and are attacked as GETs.
// Middleware mounted with Use (the static files under /static) is not a route.
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
		if r.Method == "HEAD" {
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
		}
		out = append(out, classifiedRoute{Route: r, class: c.class})
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

func fill(path, id string) string { return strings.ReplaceAll(path, ":id", url.PathEscape(id)) }
