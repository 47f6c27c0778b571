package web

import "github.com/maillage/maillage/directory"

// messages is the interface text of the pages, in every language.
var messages = map[string]directory.Text{
	"login":            {"fr": "Se connecter", "nl": "Aanmelden", "en": "Log in"},
	"logout":           {"fr": "Se déconnecter", "nl": "Afmelden", "en": "Log out"},
	"email":            {"fr": "Adresse e-mail", "nl": "E-mailadres", "en": "Email address"},
	"password":         {"fr": "Mot de passe", "nl": "Wachtwoord", "en": "Password"},
	"services":         {"fr": "Services", "nl": "Diensten", "en": "Services"},
	"no services":      {"fr": "Aucun service publié pour l’instant.", "nl": "Nog geen diensten gepubliceerd.", "en": "No services published yet."},
	"bad login":        {"fr": "Adresse e-mail ou mot de passe incorrect.", "nl": "Verkeerd e-mailadres of wachtwoord.", "en": "Wrong email address or password."},
	"throttled":        {"fr": "Trop d’essais. Réessayez dans quelques minutes.", "nl": "Te veel pogingen. Probeer het over enkele minuten opnieuw.", "en": "Too many attempts. Try again in a few minutes."},
	"setup title":      {"fr": "Installer ce nœud Maillage", "nl": "Dit Maillage-knooppunt installeren", "en": "Set up this Maillage node"},
	"setup intro":      {"fr": "Décrivez votre association et créez le premier compte administrateur.", "nl": "Beschrijf uw vereniging en maak de eerste beheerdersaccount aan.", "en": "Describe your association and create the first admin account."},
	"association name": {"fr": "Nom de l’association", "nl": "Naam van de vereniging", "en": "Name of the association"},
	"handle":           {"fr": "Identifiant court (lettres minuscules, chiffres, _)", "nl": "Korte naam (kleine letters, cijfers, _)", "en": "Short handle (lower-case letters, digits, _)"},
	"public url":       {"fr": "Adresse publique du nœud", "nl": "Publiek adres van het knooppunt", "en": "Public address of the node"},
	"admin email":      {"fr": "E-mail de l’administrateur", "nl": "E-mail van de beheerder", "en": "Admin email"},
	"admin password":   {"fr": "Mot de passe de l’administrateur (10 caractères au moins)", "nl": "Wachtwoord van de beheerder (minstens 10 tekens)", "en": "Admin password (at least 10 characters)"},
	"create node":      {"fr": "Créer le nœud", "nl": "Knooppunt aanmaken", "en": "Create the node"},
	"setup done":       {"fr": "Le nœud est prêt.", "nl": "Het knooppunt is klaar.", "en": "The node is ready."},
	"bad setup code":   {"fr": "Code d’installation manquant ou incorrect : utilisez le lien affiché au démarrage du serveur.", "nl": "Installatiecode ontbreekt of is fout: gebruik de link die bij het starten van de server verschijnt.", "en": "Missing or wrong setup code: use the link printed when the server started."},
}

// translate returns the message key in l; an unknown key is shown as is,
// and a test checks every key used by the templates exists.
func translate(l directory.Lang, key string) string {
	if m, ok := messages[key]; ok {
		return m.In(l)
	}
	return key
}
