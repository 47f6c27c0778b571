package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/maillage/maillage/directory"
)

// The demo network: three fictional Brussels associations, each with its
// places in real neighbourhoods (the street numbers and the associations
// are made up) and the services such an association offers, in French
// and Dutch, some in English.

type demoAssociation struct {
	handle, bce    string
	name, desc     directory.Text
	website, email string
	phone          string
	places         []demoPlace
	services       []demoService
}

type demoPlace struct {
	name                   directory.Text
	street, postcode, city string
	lat, lon               float64
	wheelchair             bool
}

type demoService struct {
	fr, nl, en       string // names
	descFR, descNL   string
	category         string
	audiences        []string
	languages        string // comma-separated
	fee              string
	hours            string // "1-5 9:00-12:30; 3 13:30-16:00": days 1 (Monday) to 7
	place            int    // index into places
	referrals        bool   // takes referrals from partners (identity, contact, situation)
	postcodes        string // service area, comma-separated; empty: anywhere
	eligibilityFR    string
	eligibilityNL    string
	minimumAge       int
	applicationFR    string
	applicationNL    string
	interpretationFR string
}

var demoNetwork = []demoAssociation{
	{
		handle: "maison_midi", bce: "0403.170.701",
		name:    directory.T(directory.FR, "Maison de quartier Midi", directory.NL, "Buurthuis Zuid"),
		desc:    directory.T(directory.FR, "Maison de quartier entre la gare du Midi, Saint-Gilles et Cureghem : accueil, cours, devoirs, permanence sociale.", directory.NL, "Buurthuis tussen het Zuidstation, Sint-Gillis en Kuregem: onthaal, lessen, huiswerk, sociale permanentie."),
		website: "https://maison-midi.example.be", email: "accueil@maison-midi.example.be", phone: "+32 2 537 12 34",
		places: []demoPlace{
			{directory.T(directory.FR, "Maison de quartier", directory.NL, "Buurthuis"), "Rue de la Victoire 110", "1060", "Saint-Gilles", 50.8306, 4.3441, true},
			{directory.T(directory.FR, "Antenne Clemenceau", directory.NL, "Antenne Clemenceau"), "Rue Clemenceau 20", "1070", "Anderlecht", 50.8394, 4.3306, false},
		},
		services: []demoService{
			{fr: "Permanence sociale", nl: "Sociale permanentie", en: "Social advice desk", descFR: "Aide pour les démarches : CPAS, mutuelle, allocations, courriers administratifs.", descNL: "Hulp bij administratieve stappen: OCMW, ziekenfonds, toelagen, brieven.",
				category: "difficultes-administratives-ou-juridiques--accompagnement-aux-demarches-administratives", audiences: []string{"tous-publics"}, languages: "fr,nl,ar", fee: "gratuit",
				hours: "1 9:00-12:00; 3 13:30-17:00; 5 9:00-12:00", place: 0, referrals: true, applicationFR: "Sans rendez-vous aux heures de permanence.", applicationNL: "Zonder afspraak tijdens de permanentie."},
			{fr: "École de devoirs", nl: "Huiswerkklas", en: "Homework club", descFR: "Aide aux devoirs pour les enfants du primaire, après l'école.", descNL: "Huiswerkbegeleiding voor kinderen van de lagere school, na school.",
				category: "famille--soutien-a-la-parentalite-et-a-leducation", audiences: []string{"jeunes", "familles"}, languages: "fr,nl", fee: "gratuit",
				hours: "1-2 15:30-17:30; 4 15:30-17:30; 3 13:00-16:00", place: 0, minimumAge: 6, eligibilityFR: "Enfants de 6 à 12 ans du quartier.", eligibilityNL: "Kinderen van 6 tot 12 jaar uit de wijk.", postcodes: "1060,1070"},
			{fr: "Cours de français langue étrangère", nl: "Frans als vreemde taal", en: "French as a foreign language", descFR: "Cours de français pour adultes, débutants et intermédiaires, en petits groupes.", descNL: "Franse les voor volwassenen, beginners en gevorderden, in kleine groepen.",
				category: "lecture-ecriture-calcul--maitriser-le-francais", audiences: []string{"personnes-exilees", "tous-publics"}, languages: "fr", fee: "gratuit",
				hours: "2 9:00-12:00; 4 9:00-12:00", place: 0, referrals: true, applicationFR: "Inscription en septembre et en janvier, test de niveau sur place.", applicationNL: "Inschrijving in september en januari, niveautest ter plaatse."},
			{fr: "Alphabétisation", nl: "Alfabetisering", en: "Literacy classes", descFR: "Apprendre à lire, écrire et calculer, pour les adultes qui n'ont pas été à l'école.", descNL: "Leren lezen, schrijven en rekenen, voor volwassenen die niet naar school gingen.",
				category: "lecture-ecriture-calcul--maitriser-le-francais", audiences: []string{"tous-publics"}, languages: "fr,ar", fee: "gratuit",
				hours: "1 13:30-16:00; 3 9:00-11:30", place: 1},
			{fr: "Épicerie solidaire du Midi", nl: "Solidaire kruidenier Zuid", en: "Solidarity grocery", descFR: "Produits alimentaires et d'hygiène à prix réduit, sur orientation d'un service social.", descNL: "Voedings- en hygiëneproducten aan verlaagde prijs, na doorverwijzing door een sociale dienst.",
				category: "equipement-et-alimentation--alimentation", audiences: []string{"beneficiaires-des-minimas-sociaux", "familles"}, languages: "fr,nl", fee: "payant",
				hours: "2 14:00-18:00; 5 10:00-13:00", place: 1, referrals: true, eligibilityFR: "Sur orientation d'un CPAS ou d'un service social.", eligibilityNL: "Na doorverwijzing door een OCMW of sociale dienst."},
			{fr: "Espace public numérique", nl: "Openbare computerruimte", en: "Public digital space", descFR: "Ordinateurs en accès libre et aide pour les démarches en ligne (itsme, MyMinfin, CPAS).", descNL: "Vrij toegankelijke computers en hulp bij online stappen (itsme, MyMinfin, OCMW).",
				category: "numerique--acceder-a-des-services-en-ligne", audiences: []string{"tous-publics", "seniors"}, languages: "fr,nl,en", fee: "gratuit",
				hours: "1-5 9:30-12:30; 2 13:30-16:30", place: 0},
			{fr: "Atelier CV et recherche d'emploi", nl: "Workshop cv en werk zoeken", en: "CV and job search workshop", descFR: "Rédiger son CV et sa lettre, préparer un entretien, s'inscrire chez Actiris.", descNL: "Je cv en brief schrijven, een gesprek voorbereiden, je inschrijven bij Actiris.",
				category: "preparer-sa-candidature--realiser-un-cv-et-ou-une-lettre-de-motivation", audiences: []string{"demandeurs-emploi", "jeunes"}, languages: "fr,nl", fee: "gratuit",
				hours: "3 9:30-12:00", place: 0, referrals: true, minimumAge: 18},
			{fr: "Table de conversation", nl: "Praattafel", en: "Conversation table", descFR: "Pratiquer le français ou le néerlandais autour d'un café, sans inscription.", descNL: "Frans of Nederlands oefenen bij een koffie, zonder inschrijving.",
				category: "remobilisation--lien-social", audiences: []string{"tous-publics"}, languages: "fr,nl", fee: "gratuit",
				hours: "4 14:00-16:00", place: 0},
			{fr: "Accueil parents-enfants", nl: "Onthaal ouders en kinderen", en: "Parents and toddlers", descFR: "Un lieu pour les parents et les enfants de 0 à 3 ans : jeux, écoute, échanges.", descNL: "Een plek voor ouders en kinderen van 0 tot 3 jaar: spelen, luisteren, uitwisselen.",
				category: "famille--soutien-a-la-parentalite-et-a-leducation", audiences: []string{"familles"}, languages: "fr,nl,ar,es", fee: "gratuit",
				hours: "2 9:00-11:30; 5 9:00-11:30", place: 1},
			{fr: "Atelier vélo", nl: "Fietsatelier", en: "Bike workshop", descFR: "Réparer son vélo avec les outils de l'atelier et les conseils d'un mécanicien.", descNL: "Je fiets herstellen met het gereedschap van het atelier en de raad van een mecanicien.",
				category: "mobilite--entretenir-reparer-son-vehicule", audiences: []string{"tous-publics", "jeunes"}, languages: "fr,nl,en", fee: "payant",
				hours: "6 10:00-13:00", place: 1},
			{fr: "Accompagnement logement", nl: "Woonbegeleiding", en: "Housing support", descFR: "Chercher un logement, comprendre son bail, demander une allocation loyer.", descNL: "Een woning zoeken, je huurcontract begrijpen, een huurtoelage aanvragen.",
				category: "logement-hebergement--sinformer-sur-les-demarches-liees-a-lacces-au-logement", audiences: []string{"tous-publics"}, languages: "fr,nl", fee: "gratuit",
				hours: "2 13:30-16:30", place: 0, referrals: true, postcodes: "1060,1070,1000"},
		},
	},
	{
		handle: "le_panier", bce: "0202.239.951",
		name:    directory.T(directory.FR, "Épicerie sociale Le Panier", directory.NL, "Sociale kruidenier De Mand"),
		desc:    directory.T(directory.FR, "Épicerie sociale de Cureghem et de Molenbeek : alimentation à prix réduit, repas, ateliers budget et cuisine.", directory.NL, "Sociale kruidenier in Kuregem en Molenbeek: voeding aan verlaagde prijs, maaltijden, budget- en kookworkshops."),
		website: "https://lepanier.example.be", email: "contact@lepanier.example.be", phone: "+32 2 521 45 67",
		places: []demoPlace{
			{directory.T(directory.FR, "Épicerie de Cureghem", directory.NL, "Kruidenier Kuregem"), "Rue Brogniez 50", "1070", "Anderlecht", 50.8372, 4.3338, true},
			{directory.T(directory.FR, "Épicerie de Molenbeek", directory.NL, "Kruidenier Molenbeek"), "Chaussée de Gand 120", "1080", "Molenbeek-Saint-Jean", 50.8568, 4.3361, true},
		},
		services: []demoService{
			{fr: "Épicerie sociale de Cureghem", nl: "Sociale kruidenier Kuregem", en: "Social grocery Cureghem", descFR: "Produits alimentaires, fruits et légumes frais, hygiène, à prix réduit.", descNL: "Voeding, vers fruit en groenten, hygiëne, aan verlaagde prijs.",
				category: "equipement-et-alimentation--alimentation", audiences: []string{"beneficiaires-des-minimas-sociaux", "familles"}, languages: "fr,nl,ar", fee: "payant",
				hours: "2 13:00-18:00; 4 13:00-18:00; 6 9:30-12:30", place: 0, referrals: true, eligibilityFR: "Sur orientation d'un CPAS ou d'un service social partenaire.", eligibilityNL: "Na doorverwijzing door een OCMW of partnerdienst."},
			{fr: "Épicerie sociale de Molenbeek", nl: "Sociale kruidenier Molenbeek", en: "Social grocery Molenbeek", descFR: "Produits alimentaires et d'hygiène à prix réduit, colis pour les familles.", descNL: "Voedings- en hygiëneproducten aan verlaagde prijs, pakketten voor gezinnen.",
				category: "equipement-et-alimentation--alimentation", audiences: []string{"beneficiaires-des-minimas-sociaux", "familles"}, languages: "fr,nl,ar,tr", fee: "payant",
				hours: "1 13:00-18:00; 3 13:00-18:00; 5 13:00-18:00", place: 1, referrals: true},
			{fr: "Colis alimentaires d'urgence", nl: "Noodvoedselpakketten", en: "Emergency food parcels", descFR: "Un colis par semaine pour les personnes sans revenu, le temps de trouver une solution.", descNL: "Eén pakket per week voor mensen zonder inkomen, tot er een oplossing is.",
				category: "equipement-et-alimentation--alimentation", audiences: []string{"personnes-en-situation-durgence"}, languages: "fr,nl,en", fee: "gratuit",
				hours: "3 9:00-12:00", place: 0, referrals: true},
			{fr: "Restaurant social Le Panier", nl: "Sociaal restaurant De Mand", en: "Community restaurant", descFR: "Repas chaud complet à 3 euros, midi en semaine.", descNL: "Volledige warme maaltijd voor 3 euro, 's middags op weekdagen.",
				category: "equipement-et-alimentation--alimentation", audiences: []string{"tous-publics", "seniors"}, languages: "fr,nl", fee: "payant",
				hours: "1-5 11:45-14:00", place: 1},
			{fr: "Atelier budget", nl: "Budgetworkshop", en: "Budget workshop", descFR: "Faire ses comptes, lire ses factures d'énergie, éviter les dettes.", descNL: "Je budget opmaken, je energiefacturen lezen, schulden vermijden.",
				category: "difficultes-financieres--ameliorer-sa-gestion-budgetaire", audiences: []string{"tous-publics"}, languages: "fr,nl", fee: "gratuit",
				hours: "2 9:30-11:30", place: 0, referrals: true},
			{fr: "Médiation de dettes", nl: "Schuldbemiddeling", en: "Debt mediation", descFR: "Un médiateur agréé négocie avec les créanciers et établit un plan de paiement.", descNL: "Een erkende bemiddelaar onderhandelt met schuldeisers en maakt een afbetalingsplan.",
				category: "difficultes-financieres--situation-dendettement-surendettement", audiences: []string{"tous-publics"}, languages: "fr,nl", fee: "gratuit",
				hours: "4 9:00-12:00", place: 0, referrals: true, applicationFR: "Sur rendez-vous, par téléphone.", applicationNL: "Op afspraak, telefonisch."},
			{fr: "Atelier cuisine de saison", nl: "Kookworkshop met seizoensproducten", en: "Seasonal cooking workshop", descFR: "Cuisiner ensemble avec les produits de l'épicerie, et repartir avec les recettes.", descNL: "Samen koken met producten uit de kruidenier, en met de recepten naar huis.",
				category: "remobilisation--lien-social", audiences: []string{"familles", "tous-publics"}, languages: "fr,nl,ar", fee: "gratuit",
				hours: "5 10:00-13:00", place: 1},
			{fr: "Vestiaire solidaire", nl: "Solidaire kledingwinkel", en: "Clothing bank", descFR: "Vêtements de seconde main pour enfants et adultes, à petit prix.", descNL: "Tweedehandskleding voor kinderen en volwassenen, aan kleine prijs.",
				category: "equipement-et-alimentation--habillement", audiences: []string{"familles"}, languages: "fr,nl", fee: "payant",
				hours: "3 13:30-17:00; 6 10:00-12:30", place: 1},
			{fr: "Bénévolat à l'épicerie", nl: "Vrijwilligerswerk in de kruidenier", en: "Volunteering at the grocery", descFR: "Tenir la caisse, trier les arrivages, accueillir : une façon de reprendre pied.", descNL: "De kassa doen, leveringen sorteren, onthalen: een manier om weer op weg te komen.",
				category: "remobilisation--benevolat-action-citoyenne", audiences: []string{"tous-publics", "demandeurs-emploi"}, languages: "fr,nl", fee: "gratuit",
				hours: "1-5 9:00-12:00", place: 0},
			{fr: "Permanence énergie", nl: "Energiepermanentie", en: "Energy advice desk", descFR: "Comprendre ses factures, demander le tarif social, éviter une coupure.", descNL: "Je facturen begrijpen, het sociaal tarief aanvragen, een afsluiting vermijden.",
				category: "difficultes-financieres--prevenir-une-degradation-de-la-situation-financiere", audiences: []string{"tous-publics"}, languages: "fr,nl", fee: "gratuit",
				hours: "1 14:00-16:30", place: 1, referrals: true},
		},
	},
	{
		handle: "babel", bce: "0412.345.614",
		name:    directory.T(directory.FR, "École de langues Babel", directory.NL, "Taalschool Babel"),
		desc:    directory.T(directory.FR, "Cours de français et de néerlandais, alphabétisation et numérique, à Schaerbeek et Saint-Josse.", directory.NL, "Lessen Frans en Nederlands, alfabetisering en digitale vaardigheden, in Schaarbeek en Sint-Joost."),
		website: "https://babel.example.be", email: "info@babel.example.be", phone: "+32 2 218 90 12",
		places: []demoPlace{
			{directory.T(directory.FR, "École Babel", directory.NL, "School Babel"), "Rue Royale Sainte-Marie 80", "1030", "Schaerbeek", 50.8611, 4.3689, true},
			{directory.T(directory.FR, "Antenne Saint-Josse", directory.NL, "Antenne Sint-Joost"), "Chaussée de Haecht 60", "1210", "Saint-Josse-ten-Noode", 50.8557, 4.3701, false},
		},
		services: []demoService{
			{fr: "Français langue étrangère, tous niveaux", nl: "Frans als vreemde taal, alle niveaus", en: "French classes, all levels", descFR: "Cours du soir et du matin, du niveau débutant au niveau B2.", descNL: "Avond- en ochtendlessen, van beginner tot niveau B2.",
				category: "lecture-ecriture-calcul--maitriser-le-francais", audiences: []string{"tous-publics", "personnes-exilees"}, languages: "fr,en", fee: "payant",
				hours: "1-4 18:30-20:30; 2 9:00-12:00; 4 9:00-12:00", place: 0, referrals: true, applicationFR: "Test de niveau le premier lundi du mois.", applicationNL: "Niveautest op de eerste maandag van de maand."},
			{fr: "Nederlands voor anderstaligen", nl: "Nederlands voor anderstaligen", en: "Dutch for speakers of other languages", descFR: "Cours de néerlandais pour adultes, en lien avec le Huis van het Nederlands.", descNL: "Lessen Nederlands voor volwassenen, in samenwerking met het Huis van het Nederlands.",
				category: "se-former--trouver-sa-formation", audiences: []string{"tous-publics", "demandeurs-emploi"}, languages: "nl,fr,en", fee: "payant",
				hours: "1 18:30-21:00; 3 18:30-21:00", place: 0, referrals: true},
			{fr: "Alphabétisation en français", nl: "Alfabetisering in het Frans", en: "Literacy in French", descFR: "Lire, écrire, calculer : pour les adultes peu ou pas scolarisés.", descNL: "Lezen, schrijven, rekenen: voor volwassenen die weinig of niet naar school gingen.",
				category: "lecture-ecriture-calcul--maitriser-le-francais", audiences: []string{"tous-publics", "femmes"}, languages: "fr,ar,tr", fee: "gratuit",
				hours: "1-2 9:00-12:00; 4 9:00-12:00", place: 1, referrals: true},
			{fr: "Calcul au quotidien", nl: "Rekenen in het dagelijks leven", en: "Everyday maths", descFR: "Compter son argent, lire un horaire, calculer une remise.", descNL: "Je geld tellen, een dienstregeling lezen, een korting berekenen.",
				category: "lecture-ecriture-calcul--maitriser-le-calcul", audiences: []string{"tous-publics"}, languages: "fr", fee: "gratuit",
				hours: "3 9:00-11:00", place: 1},
			{fr: "Initiation à l'ordinateur", nl: "Computer voor beginners", en: "Computer basics", descFR: "Souris, clavier, courriel et smartphone, pas à pas.", descNL: "Muis, toetsenbord, e-mail en smartphone, stap voor stap.",
				category: "numerique--maitriser-les-fondamentaux-du-numerique", audiences: []string{"seniors", "tous-publics"}, languages: "fr,nl", fee: "payant",
				hours: "2 14:00-16:00; 5 14:00-16:00", place: 0},
			{fr: "Conversation en néerlandais", nl: "Praattafel Nederlands", en: "Dutch conversation table", descFR: "Oser parler néerlandais avec des bénévoles, chaque semaine.", descNL: "Nederlands durven spreken met vrijwilligers, elke week.",
				category: "remobilisation--lien-social", audiences: []string{"tous-publics"}, languages: "nl", fee: "gratuit",
				hours: "3 14:00-15:30", place: 0},
			{fr: "Français pour l'emploi", nl: "Frans voor het werk", en: "French for work", descFR: "Le français des entretiens, des consignes et des métiers du soin et de la construction.", descNL: "Frans voor sollicitaties, instructies en beroepen in de zorg en de bouw.",
				category: "trouver-un-emploi--convaincre-un-recruteur-en-entretien", audiences: []string{"demandeurs-emploi"}, languages: "fr", fee: "gratuit",
				hours: "1 13:30-16:30; 3 13:30-16:30", place: 0, referrals: true, minimumAge: 18},
			{fr: "Aide aux démarches en ligne", nl: "Hulp bij online stappen", en: "Help with online procedures", descFR: "Prendre rendez-vous à la commune, remplir un formulaire en ligne, scanner un document.", descNL: "Een afspraak maken bij de gemeente, een online formulier invullen, een document scannen.",
				category: "numerique--acceder-a-des-services-en-ligne", audiences: []string{"tous-publics"}, languages: "fr,nl,tr", fee: "gratuit",
				hours: "4 9:30-12:00", place: 1},
			{fr: "Atelier citoyenneté", nl: "Workshop burgerschap", en: "Citizenship workshop", descFR: "Les institutions belges, les droits et devoirs, préparer la demande de nationalité.", descNL: "De Belgische instellingen, rechten en plichten, de aanvraag van de nationaliteit voorbereiden.",
				category: "difficultes-administratives-ou-juridiques--accompagnement-pour-lacces-a-la-citoyennete", audiences: []string{"personnes-exilees"}, languages: "fr,nl,en,ar", fee: "gratuit",
				hours: "5 9:30-12:30", place: 0, interpretationFR: "Interprète en arabe sur demande."},
			{fr: "Garderie pendant les cours", nl: "Kinderopvang tijdens de lessen", en: "Childcare during classes", descFR: "Les enfants de 2 à 6 ans sont accueillis pendant les cours du matin.", descNL: "Kinderen van 2 tot 6 jaar worden opgevangen tijdens de ochtendlessen.",
				category: "famille--garde-denfants", audiences: []string{"familles", "femmes"}, languages: "fr,nl", fee: "gratuit",
				hours: "1-2 9:00-12:00; 4 9:00-12:00", place: 1, eligibilityFR: "Pour les parents inscrits à un cours.", eligibilityNL: "Voor ouders die een les volgen."},
			{fr: "Orientation vers une formation", nl: "Opleidingsoriëntatie", en: "Training guidance", descFR: "Trouver la formation qui convient : langues, métiers, équivalence de diplôme.", descNL: "De gepaste opleiding vinden: talen, beroepen, gelijkwaardigheid van diploma's.",
				category: "se-former--trouver-sa-formation", audiences: []string{"demandeurs-emploi", "personnes-exilees"}, languages: "fr,nl,en", fee: "gratuit",
				hours: "2 13:30-16:30", place: 0, referrals: true},
		},
	},
}

// location builds a place's record.
func (p demoPlace) location() *directory.Location {
	return &directory.Location{
		ID: directory.NewID(), Name: p.name,
		Address:       directory.Address{Street: p.street, Postcode: p.postcode, City: p.city, Country: "BE"},
		Point:         &directory.Point{Lat: p.lat, Lon: p.lon},
		WheelchairOK:  p.wheelchair,
		Accessibility: map[bool]directory.Text{true: directory.T(directory.FR, "Entrée de plain-pied", directory.NL, "Gelijkvloerse ingang"), false: directory.T(directory.FR, "Quelques marches à l'entrée", directory.NL, "Enkele treden aan de ingang")}[p.wheelchair],
	}
}

// service builds a service's record at the given location.
func (d demoService) service(location, phone string) (*directory.Service, error) {
	sched, err := demoHours(d.hours)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", d.fr, err)
	}
	s := &directory.Service{
		ID:          directory.NewID(),
		Name:        directory.T(directory.FR, d.fr, directory.NL, d.nl, directory.EN, d.en),
		Description: directory.T(directory.FR, d.descFR, directory.NL, d.descNL),
		Status:      directory.StatusActive,
		Categories:  []string{d.category},
		Audiences:   d.audiences,
		Languages:   strings.Split(d.languages, ","),
		Fee:         d.fee,
		Locations:   []string{location},
		Schedule:    sched,
		Phones:      []directory.Phone{{Number: phone, Type: "voice"}},
	}
	if d.postcodes != "" {
		s.Area.Postcodes = strings.Split(d.postcodes, ",")
	}
	if d.eligibilityFR != "" {
		s.Eligibility = directory.T(directory.FR, d.eligibilityFR, directory.NL, d.eligibilityNL)
	}
	if d.applicationFR != "" {
		s.ApplicationProcess = directory.T(directory.FR, d.applicationFR, directory.NL, d.applicationNL)
	}
	if d.interpretationFR != "" {
		s.Interpretation = directory.T(directory.FR, d.interpretationFR)
	}
	if d.minimumAge > 0 {
		age := d.minimumAge
		s.MinimumAge = &age
	}
	if d.referrals {
		s.Referral = &directory.ReferralPolicy{Accepts: true, From: directory.FromPartners,
			Categories: []directory.DataCategory{directory.DataIdentity, directory.DataContact, directory.DataSituation}}
	}
	return s, nil
}

// demoHours reads "1-5 9:00-12:30; 3 13:30-16:00": days 1 (Monday) to 7,
// a range or one day, then the opening and closing times.
func demoHours(spec string) (directory.Schedule, error) {
	var s directory.Schedule
	for part := range strings.SplitSeq(spec, ";") {
		days, times, ok := strings.Cut(strings.TrimSpace(part), " ")
		opens, closes, ok2 := strings.Cut(times, "-")
		if !ok || !ok2 {
			return s, fmt.Errorf("hours %q: want DAYS HH:MM-HH:MM", part)
		}
		first, last, _ := strings.Cut(days, "-")
		if last == "" {
			last = first
		}
		d1, err1 := strconv.Atoi(first)
		d2, err2 := strconv.Atoi(last)
		o, err3 := demoMinutes(opens)
		c, err4 := demoMinutes(closes)
		if err1 != nil || err2 != nil || err3 != nil || err4 != nil || d1 < 1 || d2 > 7 || d1 > d2 {
			return s, fmt.Errorf("hours %q: want DAYS HH:MM-HH:MM", part)
		}
		for d := d1; d <= d2; d++ {
			s.Weekly = append(s.Weekly, directory.Slot{Day: time.Weekday(d % 7), Opens: o, Closes: c})
		}
	}
	return s, nil
}

func demoMinutes(hhmm string) (directory.Clock, error) {
	h, m, ok := strings.Cut(hhmm, ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil {
		return 0, fmt.Errorf("time %q", hhmm)
	}
	return directory.Clock(hh*60 + mm), nil
}
