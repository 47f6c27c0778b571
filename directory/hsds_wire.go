package directory

// The JSON shapes Maillage sends and accepts: HSDS 3.0 objects plus a few
// Maillage extensions. HSDS allows extra properties, so the extensions
// keep every document valid against the official schemas.
//
// Free text: an HSDS field holds the text in the document's
// text_language; the other languages sit in a translations object on the
// same record, keyed by language then field name:
//
//	{"name": "Épicerie sociale", "text_language": "fr",
//	 "translations": {"nl": {"name": "Sociale kruidenier"}}}

// Translations holds the non-primary languages of a record's text fields.
type Translations map[Lang]map[string]string

// HSDSService is the wire form of a service.
type HSDSService struct {
	ID                     string                  `json:"id,omitempty"`
	OrganizationID         string                  `json:"organization_id,omitempty"`
	Name                   string                  `json:"name"`
	AlternateName          string                  `json:"alternate_name,omitempty"`
	Description            string                  `json:"description,omitempty"`
	URL                    string                  `json:"url,omitempty"`
	Email                  string                  `json:"email,omitempty"`
	Status                 string                  `json:"status"`
	InterpretationServices string                  `json:"interpretation_services,omitempty"`
	ApplicationProcess     string                  `json:"application_process,omitempty"`
	FeesDescription        string                  `json:"fees_description,omitempty"`
	EligibilityDescription string                  `json:"eligibility_description,omitempty"`
	MinimumAge             *int                    `json:"minimum_age,omitempty"`
	MaximumAge             *int                    `json:"maximum_age,omitempty"`
	LastModified           string                  `json:"last_modified,omitempty"`
	Phones                 []HSDSPhone             `json:"phones,omitempty"`
	Schedules              []HSDSSchedule          `json:"schedules,omitempty"`
	ServiceAreas           []HSDSServiceArea       `json:"service_areas,omitempty"`
	ServiceAtLocations     []HSDSServiceAtLocation `json:"service_at_locations,omitempty"`
	Languages              []HSDSLanguage          `json:"languages,omitempty"`
	Attributes             []HSDSAttribute         `json:"attributes,omitempty"`
	Organization           *HSDSOrganization       `json:"organization,omitempty"`
	TextLanguage           string                  `json:"text_language,omitempty"`
	Translations           Translations            `json:"translations,omitempty"`
	Categories             []string                `json:"categories,omitempty"`
	Audiences              []string                `json:"audiences,omitempty"`
	Fee                    string                  `json:"fee,omitempty"`
	ReferralPolicy         *ReferralPolicy         `json:"referral_policy,omitempty"`
	Created                string                  `json:"created,omitempty"`
	// AssuredDate is HSDS 3.0's "date the information about the service
	// was last checked": the day of Service.Reviewed in Brussels.
	AssuredDate string `json:"assured_date,omitempty"`
	// ServiceCapacity is HSDS 3.1's field (one entry in Maillage), written
	// in the 3.0 documents as an extra property.
	ServiceCapacity []HSDSServiceCapacity `json:"service_capacity,omitempty"`
	// CapacityStatus is Maillage's extension for what service_capacity
	// cannot say: a waiting list, or no one new until a day.
	CapacityStatus *HSDSCapacityStatus `json:"capacity_status,omitempty"`
}

// HSDSServiceCapacity is HSDS 3.1's service_capacity: how many units
// of the service are available now, out of a maximum.
type HSDSServiceCapacity struct {
	ID          string   `json:"id,omitempty"`
	ServiceID   string   `json:"service_id,omitempty"`
	Unit        HSDSUnit `json:"unit"`
	Available   int      `json:"available"`
	Maximum     int      `json:"maximum,omitempty"`
	Description string   `json:"description,omitempty"`
	Updated     string   `json:"updated,omitempty"`
}

// HSDSUnit is HSDS 3.1's unit of a capacity.
type HSDSUnit struct {
	ID         string `json:"id,omitempty"`
	Name       string `json:"name"`
	Scheme     string `json:"scheme,omitempty"`
	Identifier string `json:"identifier,omitempty"`
}

// CapacityUnitScheme names Maillage's capacity units (places, persons,
// households, appointments) as an HSDS unit scheme.
const CapacityUnitScheme = "maillage-capacity-units"

// HSDSCapacityStatus is the capacity_status extension.
type HSDSCapacityStatus struct {
	WaitingList       *WaitingList `json:"waiting_list,omitempty"`
	NotAcceptingUntil string       `json:"not_accepting_until,omitempty"`
}

// HSDSPhone is the wire form of a phone.
type HSDSPhone struct {
	ID           string       `json:"id,omitempty"`
	Number       string       `json:"number"`
	Type         string       `json:"type,omitempty"`
	Description  string       `json:"description,omitempty"`
	Translations Translations `json:"translations,omitempty"`
}

// HSDSSchedule is the wire form of a weekly slot (freq WEEKLY, byday) or
// of an exception for one date (valid_from = valid_to, no freq; no hours
// means closed that day).
type HSDSSchedule struct {
	ID          string `json:"id,omitempty"`
	ValidFrom   string `json:"valid_from,omitempty"`
	ValidTo     string `json:"valid_to,omitempty"`
	Freq        string `json:"freq,omitempty"`
	ByDay       string `json:"byday,omitempty"`
	OpensAt     string `json:"opens_at,omitempty"`
	ClosesAt    string `json:"closes_at,omitempty"`
	Description string `json:"description,omitempty"`
	Notes       string `json:"notes,omitempty"`
	Closed      bool   `json:"closed,omitempty"`
	// Period marks an entry of a dated temporary change (Schedule.Periods)
	// between valid_from and valid_to: "closed" (closed: true), "hours"
	// (a WEEKLY slot replacing the weekly hours) or "message" (only a
	// description); the first entry of a period carries its message.
	Period       string       `json:"period,omitempty"`
	Translations Translations `json:"translations,omitempty"`
}

// The kinds of period entries.
const (
	PeriodClosed  = "closed"
	PeriodHours   = "hours"
	PeriodMessage = "message"
)

// HSDSServiceArea is the wire form of one part of a service area:
// extent_type "postcode" or "commune" with the value in name, "radius"
// with extent "lat,lon,km", or "text" with only a description.
type HSDSServiceArea struct {
	ID           string       `json:"id,omitempty"`
	Name         string       `json:"name,omitempty"`
	Description  string       `json:"description,omitempty"`
	Extent       string       `json:"extent,omitempty"`
	ExtentType   string       `json:"extent_type,omitempty"`
	Translations Translations `json:"translations,omitempty"`
}

// HSDSServiceAtLocation links a service to a location.
type HSDSServiceAtLocation struct {
	ID         string        `json:"id,omitempty"`
	ServiceID  string        `json:"service_id,omitempty"`
	LocationID string        `json:"location_id"`
	Location   *HSDSLocation `json:"location,omitempty"`
}

// HSDSLanguage is a language spoken at a service.
type HSDSLanguage struct {
	ID   string `json:"id,omitempty"`
	Code string `json:"code"`
	Name string `json:"name,omitempty"`
}

// HSDSAttribute links a record to a taxonomy term.
type HSDSAttribute struct {
	ID             string            `json:"id,omitempty"`
	LinkID         string            `json:"link_id,omitempty"`
	TaxonomyTermID string            `json:"taxonomy_term_id,omitempty"`
	LinkType       string            `json:"link_type,omitempty"`
	LinkEntity     string            `json:"link_entity,omitempty"`
	Value          string            `json:"value,omitempty"`
	TaxonomyTerm   *HSDSTaxonomyTerm `json:"taxonomy_term,omitempty"`
}

// HSDSTaxonomyTerm is the wire form of a taxonomy term.
type HSDSTaxonomyTerm struct {
	ID           string       `json:"id"`
	Code         string       `json:"code,omitempty"`
	Name         string       `json:"name"`
	Description  string       `json:"description"`
	ParentID     string       `json:"parent_id,omitempty"`
	Taxonomy     string       `json:"taxonomy,omitempty"`
	Language     string       `json:"language,omitempty"`
	TaxonomyID   string       `json:"taxonomy_id,omitempty"`
	TermURI      string       `json:"term_uri,omitempty"`
	Translations Translations `json:"translations,omitempty"`
}

// HSDSTaxonomy is the wire form of a taxonomy.
type HSDSTaxonomy struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	URI         string `json:"uri,omitempty"`
	Version     string `json:"version,omitempty"`
}

// HSDSOrganization is the wire form of an organization.
type HSDSOrganization struct {
	ID                      string              `json:"id,omitempty"`
	Name                    string              `json:"name"`
	Description             string              `json:"description"`
	Email                   string              `json:"email,omitempty"`
	Website                 string              `json:"website,omitempty"`
	LegalStatus             string              `json:"legal_status,omitempty"`
	Phones                  []HSDSPhone         `json:"phones,omitempty"`
	OrganizationIdentifiers []HSDSOrgIdentifier `json:"organization_identifiers,omitempty"`
	Services                []HSDSService       `json:"services,omitempty"`
	TextLanguage            string              `json:"text_language,omitempty"`
	Translations            Translations        `json:"translations,omitempty"`
	LastModified            string              `json:"last_modified,omitempty"`
}

// HSDSOrgIdentifier is a legal identifier of an organization.
type HSDSOrgIdentifier struct {
	ID               string `json:"id,omitempty"`
	IdentifierScheme string `json:"identifier_scheme,omitempty"`
	IdentifierType   string `json:"identifier_type"`
	Identifier       string `json:"identifier"`
}

// HSDSLocation is the wire form of a location.
type HSDSLocation struct {
	ID             string              `json:"id,omitempty"`
	LocationType   string              `json:"location_type"`
	Name           string              `json:"name,omitempty"`
	Description    string              `json:"description,omitempty"`
	Transportation string              `json:"transportation,omitempty"`
	Latitude       *float64            `json:"latitude,omitempty"`
	Longitude      *float64            `json:"longitude,omitempty"`
	Addresses      []HSDSAddress       `json:"addresses,omitempty"`
	Accessibility  []HSDSAccessibility `json:"accessibility,omitempty"`
	Wheelchair     bool                `json:"wheelchair_accessible,omitempty"`
	TextLanguage   string              `json:"text_language,omitempty"`
	Translations   Translations        `json:"translations,omitempty"`
	LastModified   string              `json:"last_modified,omitempty"`
}

// HSDSAddress is the wire form of an address.
type HSDSAddress struct {
	ID            string `json:"id,omitempty"`
	Address1      string `json:"address_1"`
	City          string `json:"city"`
	Region        string `json:"region,omitempty"`
	StateProvince string `json:"state_province"`
	PostalCode    string `json:"postal_code"`
	Country       string `json:"country"`
	AddressType   string `json:"address_type"`
}

// HSDSAccessibility describes how accessible a location is.
type HSDSAccessibility struct {
	ID          string `json:"id,omitempty"`
	Description string `json:"description,omitempty"`
}
