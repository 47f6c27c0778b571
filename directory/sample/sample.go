// Package sample generates realistic, deterministic directory data for
// demos, tests and benchmarks: services of Brussels associations with
// names and descriptions in French, Dutch and English, locations spread
// over the Brussels communes and the rest of Belgium, categories,
// audiences, languages and opening hours. The same seed always gives the
// same data.
//
// Imports: the standard library and directory.
package sample

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/maillage/maillage/directory"
)

// kind is a family of services with its wording in each language.
type kind struct {
	category            string
	fr, nl, en          string
	descFR, descNL, en2 string
}

var kinds = []kind{
	{"equipement-et-alimentation--alimentation", "Épicerie sociale", "Sociale kruidenier", "Social grocery",
		"Colis alimentaires et produits de première nécessité à prix réduit.", "Voedselpakketten en basisproducten aan verlaagde prijs.", "Food parcels and basic goods at reduced prices."},
	{"equipement-et-alimentation--alimentation", "Restaurant social", "Sociaal restaurant", "Community restaurant",
		"Repas chauds à petit prix, midi et soir.", "Warme maaltijden aan kleine prijs, 's middags en 's avonds.", "Hot meals at a small price, lunch and dinner."},
	{"lecture-ecriture-calcul--maitriser-le-francais", "Cours de français langue étrangère", "Frans als vreemde taal", "French as a foreign language",
		"Cours de français pour adultes, tous niveaux, en petits groupes.", "Franse les voor volwassenen, alle niveaus, in kleine groepen.", "French classes for adults, all levels, in small groups."},
	{"lecture-ecriture-calcul--maitriser-le-francais", "Alphabétisation", "Alfabetisering", "Literacy classes",
		"Apprendre à lire, écrire et calculer en français.", "Leren lezen, schrijven en rekenen in het Frans.", "Learn to read, write and count in French."},
	{"difficultes-administratives-ou-juridiques--accompagnement-aux-demarches-administratives", "Permanence sociale", "Sociale permanentie", "Social advice desk",
		"Aide pour les démarches administratives, le CPAS, la mutuelle et le logement.", "Hulp bij administratieve stappen, OCMW, ziekenfonds en huisvesting.", "Help with paperwork, the public welfare centre, health insurance and housing."},
	{"numerique--acceder-a-des-services-en-ligne", "Espace public numérique", "Openbare computerruimte", "Public digital space",
		"Ordinateurs en accès libre et accompagnement aux démarches en ligne.", "Vrij toegankelijke computers en begeleiding bij online stappen.", "Free computers and help with online procedures."},
	{"logement-hebergement--sinformer-sur-les-demarches-liees-a-lacces-au-logement", "Accompagnement logement", "Woonbegeleiding", "Housing support",
		"Recherche de logement, droits du locataire, primes et allocations.", "Woningzoektocht, huurdersrechten, premies en toelagen.", "Finding a home, tenant rights, grants and allowances."},
	{"famille--soutien-a-la-parentalite-et-a-leducation", "Maison des parents", "Ouderhuis", "Parents' house",
		"Accueil des parents et des enfants de 0 à 6 ans, ateliers et écoute.", "Onthaal van ouders en kinderen van 0 tot 6 jaar, workshops en luisterend oor.", "Welcome for parents and children aged 0 to 6, workshops and listening."},
	{"preparer-sa-candidature--realiser-un-cv-et-ou-une-lettre-de-motivation", "Atelier recherche d'emploi", "Workshop werk zoeken", "Job search workshop",
		"CV, lettre de motivation et préparation aux entretiens.", "Cv, motivatiebrief en voorbereiding op sollicitatiegesprekken.", "CV, cover letter and interview preparation."},
	{"sante--acces-aux-soins", "Maison médicale", "Wijkgezondheidscentrum", "Community health centre",
		"Médecine générale, soins infirmiers et kinésithérapie au forfait.", "Huisartsgeneeskunde, verpleging en kinesitherapie via forfait.", "General practice, nursing and physiotherapy on a flat fee."},
	{"difficultes-financieres--ameliorer-sa-gestion-budgetaire", "Service de médiation de dettes", "Schuldbemiddeling", "Debt mediation",
		"Aide pour gérer son budget et négocier avec les créanciers.", "Hulp bij budgetbeheer en onderhandeling met schuldeisers.", "Help managing a budget and negotiating with creditors."},
	{"mobilite--etre-accompagne-dans-son-parcours-mobilite", "Atelier vélo", "Fietsatelier", "Bike workshop",
		"Apprendre à rouler et à réparer son vélo en ville.", "Leren fietsen en je fiets herstellen in de stad.", "Learn to ride and repair your bike in the city."},
}

// Commune is a Brussels commune or Belgian town with a postcode and
// approximate centre.
type Commune struct {
	Name, Postcode string
	Lat, Lon       float64
}

// Communes are the 19 Brussels communes and a few towns elsewhere in
// Belgium; centres are approximate.
var Communes = []Commune{
	{"Bruxelles", "1000", 50.8467, 4.3525}, {"Laeken", "1020", 50.8780, 4.3480}, {"Schaerbeek", "1030", 50.8676, 4.3737},
	{"Etterbeek", "1040", 50.8333, 4.3886}, {"Ixelles", "1050", 50.8333, 4.3667}, {"Saint-Gilles", "1060", 50.8261, 4.3456},
	{"Anderlecht", "1070", 50.8365, 4.3081}, {"Molenbeek-Saint-Jean", "1080", 50.8548, 4.3229}, {"Koekelberg", "1081", 50.8622, 4.3257},
	{"Berchem-Sainte-Agathe", "1082", 50.8651, 4.2922}, {"Ganshoren", "1083", 50.8713, 4.3086}, {"Jette", "1090", 50.8777, 4.3266},
	{"Evere", "1140", 50.8703, 4.4030}, {"Woluwe-Saint-Pierre", "1150", 50.8296, 4.4318}, {"Auderghem", "1160", 50.8155, 4.4331},
	{"Watermael-Boitsfort", "1170", 50.7992, 4.4160}, {"Uccle", "1180", 50.8027, 4.3405}, {"Forest", "1190", 50.8103, 4.3246},
	{"Woluwe-Saint-Lambert", "1200", 50.8467, 4.4307}, {"Saint-Josse-ten-Noode", "1210", 50.8535, 4.3730},
	{"Antwerpen", "2000", 51.2194, 4.4025}, {"Gent", "9000", 51.0543, 3.7174}, {"Liège", "4000", 50.6326, 5.5797},
	{"Charleroi", "6000", 50.4108, 4.4446}, {"Namur", "5000", 50.4674, 4.8720}, {"Leuven", "3000", 50.8798, 4.7005},
}

var streets = []string{"Rue Haute", "Chaussée de Gand", "Rue de Brabant", "Avenue de la Couronne", "Rue du Midi",
	"Chaussée d'Ixelles", "Rue Royale", "Boulevard Lemonnier", "Rue de Fiennes", "Chaussée de Waterloo"}

var audiences = []string{"tous-publics", "familles", "jeunes", "seniors", "femmes", "personnes-exilees", "demandeurs-emploi"}

var spoken = []string{"fr", "nl", "en", "ar", "es", "tr", "pt", "ro", "pl"}

// Generator produces sample records from a seed.
type Generator struct {
	r   *rand.Rand
	now time.Time
}

// New returns a Generator; the same seed gives the same records.
func New(seed uint64) *Generator {
	return &Generator{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
}

// Location returns a location in a commune, weighted towards Brussels.
func (g *Generator) Location() *directory.Location {
	c := Communes[g.r.IntN(20)]
	if g.r.IntN(10) == 0 {
		c = Communes[g.r.IntN(len(Communes))]
	}
	return &directory.Location{
		ID:   g.id(),
		Name: directory.T(directory.FR, "Antenne "+c.Name, directory.NL, "Antenne "+c.Name),
		Address: directory.Address{
			Street:   fmt.Sprintf("%s %d", streets[g.r.IntN(len(streets))], 1+g.r.IntN(250)),
			Postcode: c.Postcode, City: c.Name, Country: "BE",
		},
		Point:         &directory.Point{Lat: c.Lat + (g.r.Float64()-0.5)*0.02, Lon: c.Lon + (g.r.Float64()-0.5)*0.03},
		Accessibility: directory.T(directory.FR, "Entrée de plain-pied", directory.NL, "Gelijkvloerse ingang"),
		WheelchairOK:  g.r.IntN(2) == 0,
	}
}

// Service returns a service at the given locations.
func (g *Generator) Service(locations ...string) *directory.Service {
	k := kinds[g.r.IntN(len(kinds))]
	c := Communes[g.r.IntN(20)]
	suffix := " – " + c.Name
	s := &directory.Service{
		ID:          g.id(),
		Name:        directory.T(directory.FR, k.fr+suffix, directory.NL, k.nl+suffix, directory.EN, k.en+suffix),
		Description: directory.T(directory.FR, k.descFR, directory.NL, k.descNL, directory.EN, k.en2),
		Status:      directory.StatusActive,
		Categories:  []string{k.category},
		Audiences:   []string{audiences[g.r.IntN(len(audiences))]},
		Languages:   g.languages(),
		Fee:         []string{"gratuit", "payant"}[g.r.IntN(4)/3],
		Locations:   locations,
		Schedule:    g.schedule(),
		Area:        directory.ServiceArea{Postcodes: []string{c.Postcode}},
		Phones:      []directory.Phone{{Number: fmt.Sprintf("+32 2 %03d %02d %02d", 200+g.r.IntN(700), g.r.IntN(100), g.r.IntN(100)), Type: "voice"}},
		Created:     g.now,
		Updated:     g.now,
	}
	if g.r.IntN(2) == 0 {
		s.Referral = &directory.ReferralPolicy{Accepts: true, From: directory.FromPartners,
			Categories: []directory.DataCategory{directory.DataIdentity, directory.DataContact}}
	}
	return s
}

func (g *Generator) languages() []string {
	out := []string{"fr"}
	if g.r.IntN(2) == 0 {
		out = append(out, "nl")
	}
	if extra := spoken[2+g.r.IntN(len(spoken)-2)]; g.r.IntN(3) == 0 {
		out = append(out, extra)
	}
	return out
}

func (g *Generator) schedule() directory.Schedule {
	var s directory.Schedule
	for d := time.Monday; d <= time.Friday; d++ {
		if g.r.IntN(5) == 0 {
			continue
		}
		s.Weekly = append(s.Weekly, directory.Slot{Day: d, Opens: 9 * 60, Closes: 12*60 + 30})
		if g.r.IntN(2) == 0 {
			s.Weekly = append(s.Weekly, directory.Slot{Day: d, Opens: 13*60 + 30, Closes: 17 * 60})
		}
	}
	if g.r.IntN(3) == 0 {
		s.Exceptions = []directory.Exception{{Date: "2026-12-25", Closed: true}}
	}
	return s
}

func (g *Generator) id() string {
	var b [16]byte
	for i := range b {
		b[i] = byte(g.r.UintN(256))
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
