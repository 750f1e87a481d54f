package api

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humafiber"
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"

	"moat/app/audit"
	"moat/app/auth"
	"moat/app/crosstenant"
	"moat/app/middleware"
	"moat/app/store"
	"moat/app/token"
	"moat/models"
)

// authenticate turns the request's bearer token into the request's Principal, counts the
// request against the token's rate limit (see leases), and refuses what has no usable token
// with a 401. No
// cookie is read: a browser's session never reaches the API. The document describing the API
// and its docs page need no token.
func (a *api) authenticate(c *fiber.Ctx) error {
	path := c.Path()
	if strings.HasPrefix(path, Prefix+"/openapi") || path == docsPath {
		return c.Next()
	}
	req := audit.Request{
		RequestID: utils.CopyString(middleware.RequestID(c)),
		IP:        a.IPs.Of(c),
		UserAgent: utils.CopyString(c.Get(fiber.HeaderUserAgent)),
	}
	secret, ok := strings.CutPrefix(c.Get(fiber.HeaderAuthorization), "Bearer ")
	if !ok {
		return a.unauthorized(c, "unknown", "Send an API token as Authorization: Bearer moat_….")
	}
	// A mistyped token is refused without asking the database.
	if secret = strings.TrimSpace(secret); !token.ValidAPI(secret) {
		return a.unauthorized(c, "unknown", "The API token is not valid.")
	}
	hash := token.Hash(secret)
	leased := a.leases.take(hash, a.Now())
	ask := chunk(a.Rate)
	if leased {
		ask = 0
	}
	use, err := a.Tokens.Use(c.UserContext(), hash, req.IP, ask, a.Rate)
	switch {
	case errors.Is(err, store.ErrUnknownToken):
		return a.unauthorized(c, "unknown", "The API token is not valid.")
	case err != nil:
		return a.serverError(c, err)
	}
	p := use.Principal
	req.UserID = p.UserID
	req.Token = fmt.Sprintf("%s (%s…)", p.Token.Name, use.Prefix)
	ctx := audit.NewContext(auth.NewContext(c.UserContext(), p), req)
	if use.State != "ok" {
		// A token that no longer works is still its tenant's business: its use lands in the trail.
		if err := audit.RecordAlone(ctx, a.DB.Gorm, audit.Event{Action: audit.APITokenUse, EntityID: p.Token.ID.String(),
			Outcome: models.OutcomeDenied, Details: map[string]string{"refused": use.State}}); err != nil {
			return a.serverError(c, err)
		}
		return a.unauthorized(c, use.State, "The API token no longer works: it is "+use.State+".")
	}
	if !leased && use.Granted > 0 {
		a.leases.grant(hash, use.Granted, use.Reset, a.Now())
		leased = true
	}
	c.Set("X-RateLimit-Limit", strconv.Itoa(a.Rate))
	c.Set("X-RateLimit-Remaining", strconv.Itoa(max(a.Rate-use.Used, 0)+a.leases.left(hash, a.Now())))
	c.Set("X-RateLimit-Reset", strconv.FormatInt(use.Reset.Unix(), 10))
	if !leased {
		wait := max(int(use.Reset.Sub(a.Now()).Seconds()+0.999), 1)
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(wait))
		a.Metrics.RateLimited.WithLabelValues(Prefix).Inc()
		return write(c, huma.Error429TooManyRequests(fmt.Sprintf("This token may make %d requests a minute. Try again in %d seconds.", a.Rate, wait)))
	}
	c.SetUserContext(ctx)
	return c.Next()
}

// unauthorized answers a request without a usable token.
func (a *api) unauthorized(c *fiber.Ctx, reason, detail string) error {
	a.Metrics.APIRefused.WithLabelValues(reason).Inc()
	c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="moat"`)
	return write(c, huma.Error401Unauthorized(detail))
}

// serverError logs err with the request's id and answers a bare 500.
func (a *api) serverError(c *fiber.Ctx, err error) error {
	a.Log.ErrorContext(c.UserContext(), "server error", "request_id", middleware.RequestID(c), "method", c.Method(), "path", c.Path(), "err", err)
	return write(c, huma.Error500InternalServerError("The error has been logged. Please try again in a moment."))
}

// write sends a problem from outside huma's handlers.
func write(c *fiber.Ctx, e huma.StatusError) error {
	return c.Status(e.GetStatus()).JSON(e, "application/problem+json")
}

// call is what an operation leaves for the middleware around it.
type call struct {
	miss *models.MissError // a lookup that found nothing, for the cross-tenant probe
}

type callKey struct{}

// gate refuses an operation beyond the token's scopes, or a correction beyond its person's
// role, with a 403 that lands in the trail; it then runs the operation and hands any miss on an
// id to the cross-tenant probe, as the pages' error handler does.
func (a *api) gate(ctx huma.Context, next func(huma.Context)) {
	op := ctx.Operation()
	p, ok := auth.FromContext(ctx.Context())
	if !ok {
		huma.WriteErr(a.h, ctx, 401, "Send an API token as Authorization: Bearer moat_….")
		return
	}
	resource, _ := op.Metadata[metaResource].(string)
	want := auth.Access(op.Metadata[metaAccess].(string))
	refused := ""
	switch {
	case !p.Token.Scopes.Of(resource).Allows(want):
		refused = fmt.Sprintf("This token has no %s access to %s.", want, resource)
	case op.Metadata[metaManagers] == true && !p.Role.ManagesTeam():
		refused = "Only owners and admins may do this, and this token acts for a " + string(p.Role) + "."
	}
	if refused != "" {
		if err := audit.RecordAlone(ctx.Context(), a.DB.Gorm, audit.Event{Action: audit.APIScope, EntityID: p.Token.ID.String(),
			Outcome: models.OutcomeDenied, Details: map[string]string{"operation": op.OperationID, "refused": refused}}); err != nil {
			a.Log.ErrorContext(ctx.Context(), "server error", "request_id", audit.RequestFrom(ctx.Context()).RequestID, "err", err)
			huma.WriteErr(a.h, ctx, 500, "The error has been logged. Please try again in a moment.")
			return
		}
		a.Metrics.APIRefused.WithLabelValues("scope").Inc()
		huma.WriteErr(a.h, ctx, 403, refused)
		return
	}
	st := &call{}
	next(huma.WithContext(ctx, context.WithValue(ctx.Context(), callKey{}, st)))
	if st.miss != nil {
		c := humafiber.Unwrap(ctx)
		a.Probes.Record(crosstenant.Miss{Entity: st.miss.Entity, ID: st.miss.ID, Tenant: p.Tenant.UUID(), User: p.UserID,
			Route: utils.CopyString(c.Route().Path), Method: utils.CopyString(c.Method()), RequestID: audit.RequestFrom(ctx.Context()).RequestID})
	}
}

// fail turns a store's answer into the API's: not found (any miss, alike), forbidden, invalid
// fields (each located in the request as names says), or a logged server error.
func (a *api) fail(ctx context.Context, err error, names fieldNames) error {
	var (
		miss    *models.MissError
		invalid *models.ValidationError
	)
	switch {
	case errors.As(err, &miss):
		if st, ok := ctx.Value(callKey{}).(*call); ok {
			st.miss = miss
		}
		return notFound()
	case errors.Is(err, models.ErrNotFound):
		return notFound()
	case errors.Is(err, models.ErrForbidden), errors.Is(err, models.ErrLastOwner):
		return huma.Error403Forbidden(err.Error())
	case errors.As(err, &invalid):
		return names.invalid(invalid)
	}
	a.Log.ErrorContext(ctx, "server error", "request_id", audit.RequestFrom(ctx).RequestID, "err", err)
	return huma.Error500InternalServerError("The error has been logged. Please try again in a moment.")
}

// notFound is the one answer for every id that names nothing the tenant may see.
func notFound() error { return huma.Error404NotFound("There is no such record.") }

// fieldNames say where in a request body a form's field is, for the fields the API names
// otherwise: "email" → "emails", and for repeated fields "line_quantity[]" → "lines[%d].quantity",
// whose form index counts from base.
type fieldNames struct {
	names map[string]string
	base  int
}

// invalid is a 422 naming each bad field where the request has it.
func (f fieldNames) invalid(invalid *models.ValidationError) error {
	details := make([]error, 0, len(invalid.Fields))
	for _, name := range slices.Sorted(maps.Keys(invalid.Fields)) {
		loc := name
		if renamed, ok := f.names[name]; ok {
			loc = renamed
		} else if field, index, ok := strings.Cut(name, "["); ok {
			if renamed, ok := f.names[field+"[]"]; ok {
				n, _ := strconv.Atoi(strings.TrimSuffix(index, "]"))
				loc = fmt.Sprintf(renamed, n-f.base)
			}
		}
		details = append(details, &huma.ErrorDetail{Location: "body." + loc, Message: invalid.Fields[name]})
	}
	return huma.Error422UnprocessableEntity("The request has invalid fields.", details...)
}

// written runs write, then read of the record it names, in one transaction, and answers what
// read found: a write answers with the record as it now stands.
func written[T any](a *api, ctx context.Context, names fieldNames, write func(context.Context) (string, error),
	read func(context.Context, string) (T, error)) (T, error) {
	var out T
	err := a.DB.Within(ctx, func(ctx context.Context) error {
		id, err := write(ctx)
		if err != nil {
			return err
		}
		out, err = read(ctx, id)
		return err
	})
	if err != nil {
		var zero T
		return zero, a.fail(ctx, err, names)
	}
	return out, nil
}
