package directory

import (
	"math"
	"time"
)

// Organization is the association that runs the node.
type Organization struct {
	ID          string       `json:"id"`
	Name        Text         `json:"name"`
	Description Text         `json:"description,omitempty"`
	Website     string       `json:"website,omitempty"`
	Email       string       `json:"email,omitempty"`
	Phones      []Phone      `json:"phones,omitempty"`
	Identifiers []Identifier `json:"identifiers,omitempty"`
	LegalStatus string       `json:"legal_status,omitempty"`
	Updated     time.Time    `json:"updated"`
}

// Identifier is a legal identifier of an organization, such as the
// Belgian enterprise number (scheme BCE/KBO).
type Identifier struct {
	Scheme string `json:"scheme"`
	Value  string `json:"value"`
}

// SchemeBCE is the identifier scheme of the Belgian Crossroads Bank for
// Enterprises (BCE/KBO) enterprise number, written 0123.456.789.
const SchemeBCE = "BE-BCE_KBO"

// Phone is a telephone number with what it is for.
type Phone struct {
	Number      string `json:"number"`
	Type        string `json:"type,omitempty"` // voice, fax, text, cell, video, pager, textphone
	Description Text   `json:"description,omitempty"`
}

// Location is a place where services are delivered.
type Location struct {
	ID             string    `json:"id"`
	Name           Text      `json:"name"`
	Description    Text      `json:"description,omitempty"`
	Address        Address   `json:"address"`
	Point          *Point    `json:"point,omitempty"`
	Accessibility  Text      `json:"accessibility,omitempty"`
	WheelchairOK   bool      `json:"wheelchair,omitempty"`
	Transportation Text      `json:"transportation,omitempty"`
	Updated        time.Time `json:"updated"`
}

// Address is a postal address.
type Address struct {
	Street   string `json:"street"`
	Postcode string `json:"postcode"`
	City     string `json:"city"`
	Region   string `json:"region,omitempty"`
	Country  string `json:"country"` // ISO 3166-1 alpha-2
}

// Point is a WGS84 position.
type Point struct {
	Lat float64 `json:"lat"`
	Lon float64 `json:"lon"`
}

// EarthRadius is the mean radius of the Earth in metres (IUGG).
const EarthRadius = 6371008.8

// Distance is the great-circle distance between two points in metres.
func Distance(a, b Point) float64 {
	la1, la2 := a.Lat*math.Pi/180, b.Lat*math.Pi/180
	dla, dlo := la2-la1, (b.Lon-a.Lon)*math.Pi/180
	h := math.Sin(dla/2)*math.Sin(dla/2) + math.Cos(la1)*math.Cos(la2)*math.Sin(dlo/2)*math.Sin(dlo/2)
	return 2 * EarthRadius * math.Asin(math.Min(1, math.Sqrt(h)))
}

// Status is the HSDS status of a service.
type Status string

// Service statuses, as HSDS 3.0 names them.
const (
	StatusActive     Status = "active"
	StatusInactive   Status = "inactive"
	StatusDefunct    Status = "defunct"
	StatusTempClosed Status = "temporarily closed"
)

// Service is something an association offers to residents.
type Service struct {
	ID                 string          `json:"id"`
	OrganizationID     string          `json:"organization_id"`
	Name               Text            `json:"name"`
	AlternateName      Text            `json:"alternate_name,omitempty"`
	Description        Text            `json:"description,omitempty"`
	URL                string          `json:"url,omitempty"`
	Email              string          `json:"email,omitempty"`
	Status             Status          `json:"status"`
	Phones             []Phone         `json:"phones,omitempty"`
	Categories         []string        `json:"categories,omitempty"` // taxonomy term or category codes
	Audiences          []string        `json:"audiences,omitempty"`  // audience codes
	Languages          []string        `json:"languages,omitempty"`  // ISO 639-1 codes of languages spoken
	Fee                string          `json:"fee,omitempty"`        // fee code: gratuit or payant
	FeesDescription    Text            `json:"fees_description,omitempty"`
	Eligibility        Text            `json:"eligibility,omitempty"`
	MinimumAge         *int            `json:"minimum_age,omitempty"`
	MaximumAge         *int            `json:"maximum_age,omitempty"`
	ApplicationProcess Text            `json:"application_process,omitempty"`
	Interpretation     Text            `json:"interpretation,omitempty"`
	Locations          []string        `json:"locations,omitempty"` // Location ids
	Schedule           Schedule        `json:"schedule"`
	Area               ServiceArea     `json:"area"`
	Referral           *ReferralPolicy `json:"referral_policy,omitempty"`
	// Complements lists services found similar that the association
	// says its service complements rather than duplicates, with why: they
	// are no longer offered as look-alikes. Kept by this node only.
	Complements []Complement `json:"complements,omitempty"`
	// Capacity is whether the service takes someone new now; nil when
	// the association does not say.
	Capacity *Capacity `json:"capacity,omitempty"`
	// Reviewed is when the association last said the service is right
	// (HSDS assured_date): at creation, at each edit, and by "still
	// correct". Setting the capacity does not change it.
	Reviewed time.Time `json:"reviewed,omitzero"`
	Created  time.Time `json:"created"`
	Updated  time.Time `json:"updated"`
}

// DefaultReviewAfter is how long a service goes unreviewed before its
// admins are reminded and partners see it marked (about six months).
const DefaultReviewAfter = 182 * 24 * time.Hour

// ReviewedAt is when the service was last said to be right: its review
// date, or its last change for services recorded before reviews were.
func (s *Service) ReviewedAt() time.Time {
	if !s.Reviewed.IsZero() {
		return s.Reviewed
	}
	return s.Updated
}

// ReviewDue reports whether at now the service has gone unreviewed for
// longer than after (DefaultReviewAfter when after is not positive).
func (s *Service) ReviewDue(now time.Time, after time.Duration) bool {
	if after <= 0 {
		after = DefaultReviewAfter
	}
	r := s.ReviewedAt()
	return !r.IsZero() && now.Sub(r) >= after
}

// Complement is a service another one complements, with a note.
type Complement struct {
	URI  string `json:"uri"`
	Note string `json:"note,omitempty"`
}

// ServiceArea says where residents must live or be to use a service.
// Empty means anywhere.
type ServiceArea struct {
	Postcodes   []string `json:"postcodes,omitempty"`
	Communes    []string `json:"communes,omitempty"`
	Radius      *Radius  `json:"radius,omitempty"`
	Description Text     `json:"description,omitempty"`
}

// IsEmpty reports whether the area places no restriction.
func (a ServiceArea) IsEmpty() bool {
	return len(a.Postcodes) == 0 && len(a.Communes) == 0 && a.Radius == nil && a.Description.IsEmpty()
}

// Radius is a disc around a point.
type Radius struct {
	Center Point   `json:"center"`
	Km     float64 `json:"km"`
}

// DataCategory names a kind of personal data a referral may carry.
type DataCategory string

// The data categories a receiving service may ask for. Special is
// special-category data (health and the like) and always needs its own
// explicit flag on a referral.
const (
	DataIdentity  DataCategory = "identity"
	DataContact   DataCategory = "contact"
	DataSituation DataCategory = "situation"
	DataDocuments DataCategory = "documents"
	DataSpecial   DataCategory = "special"
)

// DataCategories lists every data category in a stable order.
var DataCategories = []DataCategory{DataIdentity, DataContact, DataSituation, DataDocuments, DataSpecial}

// Who may refer residents to a service.
const (
	FromPartners = "partners"
	FromNetwork  = "network"
)

// ReferralPolicy is what a service publishes about the referrals it takes.
// A service without one accepts no referrals.
type ReferralPolicy struct {
	Accepts    bool           `json:"accepts"`
	From       string         `json:"from"`
	Categories []DataCategory `json:"categories,omitempty"`
	Note       string         `json:"note,omitempty"`
}

// AcceptsReferrals reports whether the service takes referrals at all.
func (s *Service) AcceptsReferrals() bool {
	return s.Referral != nil && s.Referral.Accepts
}

// NeedCount is how many unmet needs ("I could not find a service
// for…") were signalled for a top-level theme in an area (a postcode).
type NeedCount struct {
	Theme string `json:"theme"`
	Area  string `json:"area"`
	Count int    `json:"count"`
}

// NeedNote is the optional text of one signalled need. It stays on the
// node that took it, for its admins, and is never shared.
type NeedNote struct {
	Theme string    `json:"theme"`
	Area  string    `json:"area"`
	Text  string    `json:"text"`
	At    time.Time `json:"at"`
}

// PartnerNeeds are the unmet-need counts a partner shares, as of Updated.
type PartnerNeeds struct {
	Actor   string      `json:"actor"`
	Updated time.Time   `json:"updated"`
	Counts  []NeedCount `json:"counts"`
}

// PartnerService is another node's service as this node replicated it,
// stored once under its ActivityPub id whatever path it arrived by.
type PartnerService struct {
	URI      string `json:"uri"`      // ActivityPub id of the service
	Actor    string `json:"actor"`    // the association that offers it
	Provider string `json:"provider"` // that association's name
	// ProviderNames is its name in each language it gives; services
	// stored before it have none and show Provider.
	ProviderNames Text     `json:"provider_names,omitempty"`
	Service       *Service `json:"service"`
	Points        []Point  `json:"points,omitempty"` // where it is delivered
	// Places are the partner's locations of the service as it published
	// them (name, address, access), shown on the service's page. Records
	// stored before places travelled have none; their Points still serve
	// search and the map.
	Places   []Location `json:"places,omitempty"`
	Received time.Time  `json:"received"`
}

// ProviderIn returns the providing association's name in lang, else its
// main name.
func (ps *PartnerService) ProviderIn(lang Lang) string {
	if v := ps.ProviderNames[lang]; v != "" {
		return v
	}
	return ps.Provider
}
