package web

import (
	"context"
	"fmt"
	"net/http"

	"github.com/gorilla/mux"
)

// routes declares every route of the node, each with a name used in logs,
// metrics and urlFor.
func (s *Server) routes() *mux.Router {
	r := mux.NewRouter()
	r.Use(recordRoute)
	handle := func(name, method, path string, h http.HandlerFunc) {
		r.Handle(path, h).Methods(method).Name(name)
	}
	api := func(name, method, path string, h apiHandler, guard guard) {
		handle(name, method, path, s.api(h, guard))
	}

	// Operations.
	handle("healthz", "GET", "/healthz", s.healthz)
	handle("readyz", "GET", "/readyz", s.readyz)
	handle("metrics", "GET", "/metrics", s.metrics)

	// JSON API.
	api("token", "POST", "/api/v1/token", s.createToken, public)
	api("token-revoke", "POST", "/api/v1/token/revoke", s.revokeTokens, anyUser)
	api("taxonomy", "GET", "/api/v1/taxonomy", s.getTaxonomy, public)
	api("organization", "GET", "/api/v1/organization", s.getOrganization, public)
	api("organization-update", "PUT", "/api/v1/organization", s.updateOrganization, admin)
	api("services", "GET", "/api/v1/services", s.listServices, public)
	api("service-create", "POST", "/api/v1/services", s.createService, admin)
	api("services-similar", "GET", "/api/v1/services/similar", s.similarServices, anyUser)
	api("services-similar-post", "POST", "/api/v1/services/similar", s.similarServices, anyUser)
	api("service", "GET", "/api/v1/services/{id}", s.getService, public)
	api("service-update", "PUT", "/api/v1/services/{id}", s.updateService, admin)
	api("service-delete", "DELETE", "/api/v1/services/{id}", s.deleteService, admin)
	api("service-capacity", "PUT", "/api/v1/services/{id}/capacity", s.setCapacity, anyUser)
	api("service-capacity-delete", "DELETE", "/api/v1/services/{id}/capacity", s.clearCapacity, anyUser)
	api("service-reviewed", "POST", "/api/v1/services/{id}/reviewed", s.markReviewed, admin)
	api("locations", "GET", "/api/v1/locations", s.listLocations, public)
	api("location-create", "POST", "/api/v1/locations", s.createLocation, admin)
	api("location", "GET", "/api/v1/locations/{id}", s.getLocation, public)
	api("location-update", "PUT", "/api/v1/locations/{id}", s.updateLocation, admin)
	api("location-delete", "DELETE", "/api/v1/locations/{id}", s.deleteLocation, admin)
	api("users", "GET", "/api/v1/users", s.listUsers, admin)
	api("user-create", "POST", "/api/v1/users", s.createUser, admin)
	api("user-disable", "POST", "/api/v1/users/{id}/disable", s.setUserDisabled(true), admin)
	api("user-enable", "POST", "/api/v1/users/{id}/enable", s.setUserDisabled(false), admin)
	api("user-delete", "DELETE", "/api/v1/users/{id}", s.deleteUser, admin)
	api("backup", "GET", "/api/v1/backup", s.backup, admin)
	api("partners", "GET", "/api/v1/partners", s.listPartners, admin)
	api("partner-request", "POST", "/api/v1/partners", s.requestPartner, admin)
	api("partner-accept", "POST", "/api/v1/partners/{id}/accept", s.partnerAction(Network.Accept), admin)
	api("partner-decline", "POST", "/api/v1/partners/{id}/decline", s.partnerAction(Network.Decline), admin)
	api("partner-end", "DELETE", "/api/v1/partners/{id}", s.partnerAction(Network.End), admin)
	api("search", "GET", "/api/v1/search", s.searchServices, public)
	api("network-services", "GET", "/api/v1/network/services", s.networkServices, public)
	api("network-overlaps", "GET", "/api/v1/network/overlaps", s.networkOverlaps, public)
	api("network-gaps", "GET", "/api/v1/network/gaps", s.networkGaps, public)
	api("network-needs", "POST", "/api/v1/network/needs", s.signalNeed, public)
	api("network-pop", "GET", "/api/v1/network/partners-of-partners", s.partnersOfPartners, anyUser)
	api("referrals", "GET", "/api/v1/referrals", s.listReferrals, anyUser)
	api("referral-create", "POST", "/api/v1/referrals", s.createReferral, anyUser)
	api("referrals-due", "GET", "/api/v1/referrals/due", s.dueReferrals, admin)
	api("referral", "GET", "/api/v1/referrals/{id}", s.getReferral, anyUser)
	api("referral-transition", "POST", "/api/v1/referrals/{id}/transition", s.transitionReferral, anyUser)
	api("referral-withdraw", "POST", "/api/v1/referrals/{id}/withdraw", s.withdrawReferral, anyUser)
	api("referral-erase", "POST", "/api/v1/referrals/{id}/erase", s.eraseReferral, admin)
	api("referral-receipt", "GET", "/api/v1/referrals/{id}/receipt", s.receipt, anyUser)
	api("referral-documents-add", "POST", "/api/v1/referrals/{id}/documents", s.apiAddDocuments, anyUser)
	api("referral-document", "GET", "/api/v1/referrals/{id}/documents/{doc}", s.apiDocument, anyUser)
	api("referral-messages", "GET", "/api/v1/referrals/{id}/messages", s.apiThread, anyUser)
	api("referral-message-create", "POST", "/api/v1/referrals/{id}/messages", s.apiWriteMessage, anyUser)
	api("audit", "GET", "/api/v1/audit", s.auditLog, admin)
	api("stats", "GET", "/api/v1/stats", s.apiStats, admin)
	api("blocklist", "GET", "/api/v1/blocklist", s.listBlocked, admin)
	api("block", "POST", "/api/v1/blocklist", s.block(true), admin)
	api("unblock", "DELETE", "/api/v1/blocklist/{host}", s.block(false), admin)

	// HSDS 3.0 read API.
	api("hsds-root", "GET", "/hsds/", s.hsdsRoot, public)
	api("hsds-services", "GET", "/hsds/services", s.hsdsServices, public)
	api("hsds-service", "GET", "/hsds/services/{id}", s.hsdsService, public)
	api("hsds-organizations", "GET", "/hsds/organizations", s.hsdsOrganizations, public)
	api("hsds-organization", "GET", "/hsds/organizations/{id}", s.hsdsOrganization, public)
	api("hsds-taxonomies", "GET", "/hsds/taxonomies", s.hsdsTaxonomies, public)
	api("hsds-taxonomy", "GET", "/hsds/taxonomies/{id}", s.hsdsTaxonomy, public)
	api("hsds-terms", "GET", "/hsds/taxonomy_terms", s.hsdsTerms, public)
	api("hsds-term", "GET", "/hsds/taxonomy_terms/{id}", s.hsdsTerm, public)

	// Pages.
	handle("static", "GET", "/static/{path:.+}", serveStatic)
	handle("favicon", "GET", "/favicon.ico", serveFavicon)
	handle("home", "GET", "/", s.publicPage(s.home))
	handle("search-page", "GET", "/search", s.publicPage(s.searchPage))
	handle("service-page", "GET", "/services/{id}", s.publicPage(s.localService))
	handle("service-capacity-page", "POST", "/services/{id}/capacity", s.page(s.setCapacityPage))
	handle("partner-service-page", "GET", "/service", s.page(s.partnerService))
	handle("association-page", "GET", "/actor", s.page(s.association))
	handle("partner-association-page", "GET", "/organization", s.page(s.partnerAssociation))
	handle("about-page", "GET", "/about", s.page(s.about))
	handle("network-page", "GET", "/network", s.page(s.networkView))
	handle("network-need", "POST", "/network/needs", s.page(s.signalNeedPage))
	handle("refer-page", "GET", "/refer", s.page(s.withCapacityWarning(s.referForm)))
	handle("refer-post", "POST", "/refer", s.page(s.withCapacityWarning(s.refer)))
	handle("notice-page", "GET", "/refer/notice", s.page(s.noticePage))
	handle("referrals-page", "GET", "/referrals", s.page(s.referralsPage))
	handle("referral-page", "GET", "/referrals/{id}", s.page(s.onReferral(s.referralPage)))
	handle("referral-open", "POST", "/referrals/{id}/open", s.page(s.onReferral(s.openResident)))
	handle("referral-move", "POST", "/referrals/{id}/move", s.page(s.onReferral(s.moveReferral)))
	handle("referral-withdraw-page", "POST", "/referrals/{id}/withdraw", s.page(s.onReferral(s.withdrawConsent)))
	handle("referral-receipt-mail", "POST", "/referrals/{id}/receipt/mail", s.page(s.onReferral(s.mailReceipt)))
	handle("referral-documents-add-page", "POST", "/referrals/{id}/documents", s.tokenPage(s.withUpload(s.onReferral(s.addDocuments)))) // its own form token check (attachments.go)
	handle("referral-document-download", "POST", "/referrals/{id}/files/{doc}", s.page(s.onReferral(s.downloadDocument)))
	handle("referral-message-page", "POST", "/referrals/{id}/messages", s.page(s.onReferral(s.writeMessage)))
	handle("notifications-page", "GET", "/notifications", s.page(s.notificationsPage))
	handle("notifications-read", "POST", "/notifications/read", s.page(s.markRead))
	handle("notification-settings", "GET", "/settings/notifications", s.page(s.notificationSettings))
	handle("notification-settings-save", "POST", "/settings/notifications", s.page(s.saveNotificationSettings))
	handle("unsubscribe-page", "GET", "/unsubscribe", s.page(s.confirmUnsubscribe))
	handle("unsubscribe", "POST", "/unsubscribe", s.tokenPage(s.unsubscribe))
	admin := func(name, method, path string, h pageHandler) { handle(name, method, path, s.page(s.admin(h))) }
	admin("referral-erase-page", "POST", "/referrals/{id}/erase", s.onReferral(s.eraseNow))
	admin("admin-page", "GET", "/admin", s.adminHome)
	admin("admin-services-page", "GET", "/admin/services", s.adminServices)
	admin("admin-service-new", "GET", "/admin/services/new", s.serviceEditor)
	admin("admin-service-create", "POST", "/admin/services", s.saveService)
	admin("admin-service-edit", "GET", "/admin/services/{id}", s.serviceEditor)
	admin("admin-service-save", "POST", "/admin/services/{id}", s.saveService)
	admin("admin-service-reviewed", "POST", "/admin/services/{id}/reviewed", s.markReviewedPage)
	admin("admin-locations-page", "GET", "/admin/locations", s.adminLocations)
	admin("admin-location-new", "GET", "/admin/locations/new", s.locationEditor)
	admin("admin-location-create", "POST", "/admin/locations", s.saveLocation)
	admin("admin-location-edit", "GET", "/admin/locations/{id}", s.locationEditor)
	admin("admin-location-save", "POST", "/admin/locations/{id}", s.saveLocation)
	admin("admin-organization", "GET", "/admin/organization", s.orgEditor)
	admin("admin-organization-save", "POST", "/admin/organization", s.saveOrg)
	admin("admin-partners-page", "GET", "/admin/partners", s.adminPartners)
	admin("admin-partner-request", "POST", "/admin/partners", s.requestPartnerPage)
	admin("admin-partner-end", "GET", "/admin/partners/{id}/end", s.confirmEndPartner)
	admin("admin-partner-action", "POST", "/admin/partners/{id}/{action}", s.partnerPageAction)
	admin("admin-users-page", "GET", "/admin/users", s.adminUsers)
	admin("admin-user-add", "POST", "/admin/users", s.addUser)
	admin("admin-user-disabled", "POST", "/admin/users/{id}/disabled", s.setUserDisabledPage)
	admin("admin-user-delete", "POST", "/admin/users/{id}/delete", s.deleteUserPage)
	admin("admin-user-invite", "POST", "/admin/users/invite", s.inviteUser)
	admin("admin-user-reinvite", "POST", "/admin/users/{id}/invite", s.resendInvite)
	admin("admin-blocklist-page", "GET", "/admin/blocklist", s.adminBlocklist)
	admin("admin-block", "POST", "/admin/blocklist", s.blockPage)
	admin("admin-audit-page", "GET", "/admin/audit", s.adminAudit)
	admin("admin-stats-page", "GET", "/admin/stats", s.adminStats)
	admin("admin-stats-csv", "GET", "/admin/stats.csv", s.adminStatsCSV)
	admin("admin-stats-pdf", "GET", "/admin/stats.pdf", s.adminStatsPDF)
	admin("admin-stats-share", "POST", "/admin/stats/share", s.shareStatsPage)
	admin("admin-mail-page", "GET", "/admin/mail", s.adminMail)
	admin("admin-mail-test", "POST", "/admin/mail/test", s.sendTestMail)
	handle("login", "GET", "/login", s.page(s.loginForm))
	handle("login-post", "POST", "/login", s.page(s.login))
	handle("password-forgot", "GET", "/password/forgot", s.page(s.forgotForm))
	handle("password-forgot-post", "POST", "/password/forgot", s.page(s.forgotPassword))
	handle("password-reset", "GET", "/password/reset", s.page(s.linkForm(resetLink)))
	handle("password-reset-post", "POST", "/password/reset", s.page(s.setPassword(resetLink)))
	handle("invite-page", "GET", "/invite", s.page(s.linkForm(inviteLink)))
	handle("invite-accept", "POST", "/invite", s.page(s.setPassword(inviteLink)))
	handle("logout", "POST", "/logout", s.page(s.logout))

	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, fmt.Errorf("no route %s: %w", r.URL.Path, errNotFoundRoute))
	})
	r.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, errMethodRefused)
	})
	return r
}

// pathVar reads a route variable; the one place that knows the router.
func pathVar(r *http.Request, name string) string { return mux.Vars(r)[name] }

type routeKey struct{}

// withRouteSlot gives r a slot that the router fills with the matched
// route's name, so that middleware outside the router can read it.
func withRouteSlot(r *http.Request) *http.Request {
	name := "none"
	return r.WithContext(context.WithValue(r.Context(), routeKey{}, &name))
}

// recordRoute is router middleware that fills the slot.
func recordRoute(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if slot, ok := r.Context().Value(routeKey{}).(*string); ok {
			if rt := mux.CurrentRoute(r); rt != nil {
				*slot = rt.GetName()
			}
		}
		next.ServeHTTP(w, r)
	})
}

// routeName returns the name of the route that matched r, for logs and
// metrics (never the raw path, which may hold ids).
func routeName(r *http.Request) string {
	if rt := mux.CurrentRoute(r); rt != nil {
		return rt.GetName()
	}
	if slot, ok := r.Context().Value(routeKey{}).(*string); ok {
		return *slot
	}
	return "none"
}

// urlFor builds the path of a named route from variable pairs.
func (s *Server) urlFor(name string, pairs ...string) string {
	rt := s.router.Get(name)
	if rt == nil {
		panic("web: no route " + name)
	}
	u, err := rt.URLPath(pairs...)
	if err != nil {
		panic("web: url for " + name + ": " + err.Error())
	}
	return u.Path
}
