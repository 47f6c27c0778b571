package web

import "github.com/maillage/maillage/directory"

// messages is the interface text of the pages, in every language.
var messages = map[string]directory.Text{
	"login":                  {"fr": "Se connecter", "nl": "Aanmelden", "en": "Log in"},
	"logout":                 {"fr": "Se déconnecter", "nl": "Afmelden", "en": "Log out"},
	"email":                  {"fr": "Adresse e-mail", "nl": "E-mailadres", "en": "Email address"},
	"password":               {"fr": "Mot de passe", "nl": "Wachtwoord", "en": "Password"},
	"services":               {"fr": "Services", "nl": "Diensten", "en": "Services"},
	"no services":            {"fr": "Aucun service publié pour l’instant.", "nl": "Nog geen diensten gepubliceerd.", "en": "No services published yet."},
	"bad login":              {"fr": "Adresse e-mail ou mot de passe incorrect.", "nl": "Verkeerd e-mailadres of wachtwoord.", "en": "Wrong email address or password."},
	"throttled":              {"fr": "Trop d’essais. Réessayez dans quelques minutes.", "nl": "Te veel pogingen. Probeer het over enkele minuten opnieuw.", "en": "Too many attempts. Try again in a few minutes."},
	"setup title":            {"fr": "Installer ce nœud Maillage", "nl": "Dit Maillage-knooppunt installeren", "en": "Set up this Maillage node"},
	"setup intro":            {"fr": "Décrivez votre association et créez le premier compte administrateur.", "nl": "Beschrijf uw vereniging en maak de eerste beheerdersaccount aan.", "en": "Describe your association and create the first admin account."},
	"association name":       {"fr": "Nom de l’association", "nl": "Naam van de vereniging", "en": "Name of the association"},
	"handle":                 {"fr": "Identifiant court (lettres minuscules, chiffres, _)", "nl": "Korte naam (kleine letters, cijfers, _)", "en": "Short handle (lower-case letters, digits, _)"},
	"public url":             {"fr": "Adresse publique du nœud", "nl": "Publiek adres van het knooppunt", "en": "Public address of the node"},
	"admin email":            {"fr": "E-mail de l’administrateur", "nl": "E-mail van de beheerder", "en": "Admin email"},
	"admin password":         {"fr": "Mot de passe de l’administrateur (10 caractères au moins)", "nl": "Wachtwoord van de beheerder (minstens 10 tekens)", "en": "Admin password (at least 10 characters)"},
	"create node":            {"fr": "Créer le nœud", "nl": "Knooppunt aanmaken", "en": "Create the node"},
	"setup done":             {"fr": "Le nœud est prêt.", "nl": "Het knooppunt is klaar.", "en": "The node is ready."},
	"bad setup code":         {"fr": "Code d’installation manquant ou incorrect : utilisez le lien affiché au démarrage du serveur.", "nl": "Installatiecode ontbreekt of is fout: gebruik de link die bij het starten van de server verschijnt.", "en": "Missing or wrong setup code: use the link printed when the server started."},
	"receipt title":          {"fr": "Reçu de consentement", "nl": "Bewijs van toestemming", "en": "Consent receipt"},
	"receipt intro":          {"fr": "Vous avez accepté que certaines informations vous concernant soient transmises à un service partenaire. Ce reçu dit lesquelles, à qui, pourquoi et jusqu’à quand.", "nl": "U hebt ermee ingestemd dat bepaalde gegevens over u worden doorgegeven aan een partnerdienst. Dit bewijs vermeldt welke, aan wie, waarom en tot wanneer.", "en": "You agreed that some information about you is passed on to a partner service. This receipt says which, to whom, why and until when."},
	"receipt reference":      {"fr": "Référence", "nl": "Referentie", "en": "Reference"},
	"receipt shared with":    {"fr": "Transmis à", "nl": "Doorgegeven aan", "en": "Shared with"},
	"receipt purpose":        {"fr": "Pourquoi", "nl": "Waarom", "en": "Why"},
	"receipt purpose text":   {"fr": "Pour vous orienter vers ce service, et pour rien d’autre.", "nl": "Om u naar deze dienst door te verwijzen, en voor niets anders.", "en": "To refer you to this service, and for nothing else."},
	"receipt what":           {"fr": "Quelles informations", "nl": "Welke gegevens", "en": "What information"},
	"receipt given":          {"fr": "Consentement donné le", "nl": "Toestemming gegeven op", "en": "Consent given on"},
	"receipt until":          {"fr": "Valable jusqu’au", "nl": "Geldig tot", "en": "Valid until"},
	"receipt notice":         {"fr": "Version de la notice d’information", "nl": "Versie van de informatiebrochure", "en": "Version of the information notice"},
	"receipt withdraw title": {"fr": "Retirer votre consentement", "nl": "Uw toestemming intrekken", "en": "Withdrawing your consent"},
	"receipt withdraw":       {"fr": "Vous pouvez retirer votre consentement à tout moment, sans vous justifier ; vos informations seront alors effacées chez les deux associations. Adressez-vous à", "nl": "U kunt uw toestemming op elk moment intrekken, zonder uitleg; uw gegevens worden dan bij beide verenigingen gewist. Wend u tot", "en": "You can withdraw your consent at any time, without giving a reason; your information is then erased at both associations. Ask"},
	"receipt withdrawn":      {"fr": "Ce consentement a été retiré ; les informations ont été effacées.", "nl": "Deze toestemming is ingetrokken; de gegevens zijn gewist.", "en": "This consent was withdrawn; the information was erased."},
	"identity":               {"fr": "Identité (nom, date de naissance)", "nl": "Identiteit (naam, geboortedatum)", "en": "Identity (name, date of birth)"},
	"contact":                {"fr": "Coordonnées (téléphone, e-mail, adresse, langue)", "nl": "Contactgegevens (telefoon, e-mail, adres, taal)", "en": "Contact details (phone, email, address, language)"},
	"situation":              {"fr": "Votre situation (en quelques mots)", "nl": "Uw situatie (in enkele woorden)", "en": "Your situation (in a few words)"},
	"documents":              {"fr": "La liste des documents que vous apportez", "nl": "De lijst van documenten die u meebrengt", "en": "The list of documents you bring"},
	"special":                {"fr": "Données sensibles (par exemple de santé), avec votre accord explicite", "nl": "Gevoelige gegevens (bijvoorbeeld over gezondheid), met uw uitdrukkelijke toestemming", "en": "Sensitive data (health, for example), with your explicit consent"},
	"signed-form":            {"fr": "formulaire signé", "nl": "ondertekend formulier", "en": "signed form"},
	"on-screen":              {"fr": "confirmé à l’écran", "nl": "op het scherm bevestigd", "en": "confirmed on screen"},
	"verbal-attested":        {"fr": "oralement, attesté par l’intervenant", "nl": "mondeling, bevestigd door de hulpverlener", "en": "verbally, attested by the worker"},
}

// translate returns the message key in l; an unknown key is shown as is,
// and a test checks every key used by the templates exists.
func translate(l directory.Lang, key string) string {
	if m, ok := messages[key]; ok {
		return m.In(l)
	}
	return key
}
