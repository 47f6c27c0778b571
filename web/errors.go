package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/maillage/maillage/directory"
	"github.com/maillage/maillage/federation"
	"github.com/maillage/maillage/referral"
	"github.com/maillage/maillage/web/account"
)

// Errors raised by the web layer itself.
var (
	errUnauthorized  = errors.New("authentication required")
	errForbidden     = errors.New("not allowed for your role")
	errTooLarge      = errors.New("request body too large")
	errMediaType     = errors.New("content type must be application/json")
	errBadQuery      = errors.New("bad query parameter")
	errNotReady      = errors.New("not ready")
	errAlreadySetUp  = errors.New("this node is already set up")
	errBadSetupCode  = errors.New("wrong or missing setup code")
	errMethodRefused = errors.New("method not allowed")
	errNotFoundRoute = fmt.Errorf("no such endpoint: %w", directory.ErrNotFound)
)

// apiError is the JSON body of every error answer: a stable code for
// programs (errorCode), a text for people reading the raw answer, and
// what is wrong field by field.
type apiError struct {
	Code     string             `json:"code"`
	Error    string             `json:"error"`
	Problems directory.Problems `json:"problems,omitempty"`
}

// errorCode is the stable code of an error answer, one per status: the
// text beside it may change, the code does not.
func errorCode(status int, problems bool) string {
	if problems {
		return "invalid"
	}
	switch status {
	case http.StatusBadRequest:
		return "bad_request"
	case http.StatusUnauthorized:
		return "unauthorized"
	case http.StatusForbidden:
		return "forbidden"
	case http.StatusNotFound:
		return "not_found"
	case http.StatusMethodNotAllowed:
		return "method_not_allowed"
	case http.StatusConflict:
		return "conflict"
	case http.StatusGone:
		return "erased"
	case http.StatusRequestEntityTooLarge:
		return "too_large"
	case http.StatusUnsupportedMediaType:
		return "media_type"
	case http.StatusTooManyRequests:
		return "throttled"
	case http.StatusServiceUnavailable:
		return "not_ready"
	case http.StatusInsufficientStorage:
		return "storage_full"
	}
	return "internal"
}

// statusOf maps an error to its HTTP status and the message safe to show
// the client. Anything not listed is a 500 whose cause only the log sees.
func statusOf(err error) (int, string) {
	if _, ok := directory.AsProblems(err); ok {
		return http.StatusBadRequest, "invalid request"
	}
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe), errors.Is(err, errTooLarge):
		return http.StatusRequestEntityTooLarge, errTooLarge.Error()
	case errors.Is(err, directory.ErrStorageFull):
		return http.StatusInsufficientStorage, "the node's disk is full: nothing was saved; try again once its admin has freed space"
	case errors.Is(err, directory.ErrNotFound):
		var nf notFoundError
		if errors.As(err, &nf) {
			return http.StatusNotFound, nf.msg
		}
		return http.StatusNotFound, "not found"
	case errors.Is(err, directory.ErrConflict):
		return http.StatusConflict, "conflict: " + conflictText(err)
	case errors.Is(err, account.ErrBadCredentials), errors.Is(err, errUnauthorized):
		return http.StatusUnauthorized, err.Error()
	case errors.Is(err, account.ErrThrottled):
		return http.StatusTooManyRequests, account.ErrThrottled.Error()
	case errors.Is(err, errForbidden), errors.Is(err, errBadSetupCode), errors.Is(err, account.ErrOwnAccount):
		return http.StatusForbidden, err.Error()
	case errors.Is(err, errMediaType):
		return http.StatusUnsupportedMediaType, err.Error()
	case errors.Is(err, errBadQuery):
		return http.StatusBadRequest, err.Error()
	case errors.Is(err, referral.ErrRefused), errors.Is(err, referral.ErrResident):
		// Their messages name fields and rules, never a resident's data.
		return http.StatusBadRequest, err.Error()
	case errors.Is(err, referral.ErrOutcome):
		return http.StatusBadRequest, err.Error()
	case errors.Is(err, referral.ErrTransition):
		return http.StatusConflict, err.Error()
	case errors.Is(err, referral.ErrErased):
		return http.StatusGone, err.Error()
	case errors.Is(err, errNotReady):
		return http.StatusServiceUnavailable, err.Error()
	case errors.Is(err, errAlreadySetUp):
		return http.StatusConflict, err.Error()
	case errors.Is(err, federation.ErrBadActor):
		return http.StatusBadRequest, err.Error()
	case errors.Is(err, federation.ErrState):
		return http.StatusConflict, err.Error()
	case errors.Is(err, errMethodRefused):
		return http.StatusMethodNotAllowed, err.Error()
	}
	return http.StatusInternalServerError, "internal error"
}

// conflictText says what conflicted without exposing internal wording.
func conflictText(err error) string {
	var c interface{ ConflictReason() string }
	if errors.As(err, &c) {
		return c.ConflictReason()
	}
	return "the record already exists or is in use"
}

// statusClientClosed is what the access log records for a request its
// client abandoned (nginx's convention; no client reads it).
const statusClientClosed = 499

// writeError answers a request with err: JSON for programs, and the
// error page in the reader's language for a browser that asked for a
// page (an unknown path, a link to an API answer).
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		// The client went away (a page closed, a program that gave up):
		// nothing failed here. 499 is the status proxies log for it.
		s.log.DebugContext(r.Context(), "request abandoned by the client", "route", routeName(r))
		w.WriteHeader(statusClientClosed)
		return
	}
	code, msg := statusOf(err)
	body := apiError{Error: msg}
	if p, ok := directory.AsProblems(err); ok {
		body.Problems = p
	}
	body.Code = errorCode(code, body.Problems != nil)
	switch {
	case code == http.StatusServiceUnavailable:
		// Expected while the node starts (search index loading): the
		// client is told when to try again; not a failure to alert on.
		s.log.DebugContext(r.Context(), "request deferred", "route", routeName(r), "err", err)
	case code >= 500:
		s.log.ErrorContext(r.Context(), "request failed", "route", routeName(r), "err", err)
	}
	if code == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", strconv.Itoa(60))
	}
	if wantsPage(r) {
		s.errorPage(w, r, code)
		return
	}
	writeJSON(w, code, body)
}

// wantsPage reports whether r comes from a browser navigating to a page,
// not from a program: it accepts HTML and is outside the APIs.
func wantsPage(r *http.Request) bool {
	for _, prefix := range []string{"/api/", "/hsds/", "/.well-known/", "/nodeinfo/"} {
		if strings.HasPrefix(r.URL.Path, prefix) {
			return false
		}
	}
	return strings.Contains(r.Header.Get("Accept"), "text/html")
}

// errorPage renders the error page for status in the reader's language,
// with the header of a logged-in user.
func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, status int) {
	p := newPageData(r, s.Now())
	p.User, _ = s.authenticate(r)
	p.CSRF = s.csrfToken(w, r)
	if o, err := s.Catalog.Organization(r.Context()); err == nil {
		p.Node = o.Name.In(p.Lang)
	}
	p.Title, p.Error = p.T("error title"), p.T(errorMessage(status))
	s.renderPage(w, r, "error", status, p)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, `{"error":"internal error"}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	w.Write(append(b, '\n'))
}

// notFoundError is a not-found whose message says what to do instead;
// it holds no data of the request.
type notFoundError struct{ msg string }

func notFound(msg string) error              { return notFoundError{msg} }
func (e notFoundError) Error() string        { return e.msg }
func (e notFoundError) Is(target error) bool { return target == directory.ErrNotFound }
