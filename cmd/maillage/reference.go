package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"
)

//go:generate go run . config-reference --out docs/configuration.md
//go:generate go run . config-reference --lang fr --out docs/configuration.fr.md

// The configuration reference is generated from the commands' own flag
// definitions, so it cannot drift from them: TestConfigurationReference
// compares docs/configuration.md and configuration.fr.md with what this
// writes. The French page translates the page's own text; the commands'
// summaries and the flags' descriptions come from the code, in English,
// as --help shows them.

func configReferenceCommand() command {
	return command{name: "config-reference", summary: "print every command's flags with their MAILLAGE_* variables, types and defaults, and how the config file works (Markdown)", define: func(fs *flag.FlagSet) func(context.Context, *cli, []string) error {
		out := fs.String("out", "", "file to write (default: standard output)")
		lang := fs.String("lang", "en", "language of the page around the flags' descriptions: en or fr")
		return func(_ context.Context, c *cli, args []string) error {
			if len(args) > 0 {
				return usagef("unexpected argument %q", args[0])
			}
			text, ok := referenceText[*lang]
			if !ok {
				return usagef("--lang must be en or fr")
			}
			var b bytes.Buffer
			if err := writeConfigReference(&b, text); err != nil {
				return err
			}
			if *out == "" {
				_, err := c.stdout.Write(b.Bytes())
				return err
			}
			return os.WriteFile(*out, b.Bytes(), 0o644)
		}
	}}
}

// referenceWords is the text of the reference page in one language.
type referenceWords struct {
	intro, header, noFlags, empty, readers, readersHeader string
	types                                                 map[string]string
}

var referenceText = map[string]referenceWords{"en": referenceEN, "fr": referenceFR}

var referenceEN = referenceWords{
	intro: `# Configuration reference

<!-- Generated from the flag definitions by ` + "`go generate ./cmd/maillage`" + ` (which runs ` + "`maillage config-reference --out docs/configuration.md`" + `).
     Do not edit: TestConfigurationReference fails when this file and the code differ. -->

Every setting of ` + "`maillage`" + ` is a flag of one of its commands (in French:
[configuration.fr.md](configuration.fr.md)). A flag takes its value from the first of these that sets it:

1. the command line: ` + "`maillage serve --listen 0.0.0.0:8080`" + `;
2. the environment: ` + "`MAILLAGE_`" + ` followed by the flag's name in capitals, dashes becoming underscores
   (` + "`MAILLAGE_LISTEN=0.0.0.0:8080`" + `);
3. the config file named by ` + "`--config`" + ` (or ` + "`MAILLAGE_CONFIG`" + `), for the commands that have that flag (` + "`init`" + ` and
   ` + "`serve`" + `);
4. the default shown below.

## Environment variables

- One variable serves every command that has a flag of that name: ` + "`MAILLAGE_DATA`" + ` is the data directory of
  ` + "`serve`" + `, ` + "`backup`" + `, ` + "`user add`" + ` and the others. The table at the end lists which commands read each variable: a
  variable set for one command is read by the others too (` + "`MAILLAGE_NAME`" + `, set for ` + "`serve`" + `, is also the display name
  that ` + "`user add`" + ` gives a new account unless ` + "`--name`" + ` is given).
- A ` + "`MAILLAGE_*`" + ` variable that no command knows stops every command (exit status 2) and is named, so that a typo
  never goes unnoticed.
- A variable set to the empty string counts as set: it overrides the config file with an empty value.

## Config file

` + "```" + `
# /etc/maillage/maillage.conf
data = /var/lib/maillage
listen = "127.0.0.1:8080"
log-format = json
` + "```" + `

- One ` + "`key = value`" + ` a line. Keys are the command's flag names without the dashes; blank lines and lines
  starting with ` + "`#`" + ` are skipped (a ` + "`#`" + ` after a value is part of the value).
- A value may stand between double or single quotes, which are removed; nothing inside is unescaped.
- A key that is not a flag of the command, ` + "`config`" + ` itself, or a line without ` + "`=`" + ` is an error naming the file and the
  line; all such lines are reported at once, and the command does not run.
- Only ` + "`init`" + ` and ` + "`serve`" + ` read a config file. Keep passwords out of it: they go in files of their own
  (` + "`--admin-password-file`" + `, ` + "`--smtp-password-file`" + `).

## Values

- Durations are written as Go writes them: ` + "`90s`" + `, ` + "`15m`" + `, ` + "`1h30m`" + `. Those counted in days also take a number of
  days: ` + "`10d`" + `.
- Booleans: ` + "`true`" + ` or ` + "`false`" + ` (also ` + "`1`" + `, ` + "`0`" + `, ` + "`t`" + `, ` + "`f`" + `); on the command line the flag alone means ` + "`true`" + `.
- Exit status: 0 on success, 2 when the command line or the configuration is wrong, 1 on any other failure.

## E-mail

Without ` + "`" + `--smtp-url` + "`" + ` the node sends no e-mail: notifications show on the site only, on each person's *Notifications*
page, and the admins' *E-mails* page says that e-mail is not set up. Nor does the node send password reset links or
invitations to new staff accounts: an admin helps instead.

### Turning it on

Your mail provider gives the three things needed, the ones a mail program asks for its *outgoing mail*: the server's
name, its port (usually 587) and a user name with its password. In ` + "`" + `/etc/maillage/maillage.env` + "`" + ` (see
[install.md](install.md), step 4):

` + "```" + `
MAILLAGE_SMTP_URL=smtp://noreply%40maison.example.be@smtp.provider.example:587
MAILLAGE_MAIL_FROM=Maison de quartier <noreply@maison.example.be>
MAILLAGE_SMTP_PASSWORD_FILE=/etc/maillage/smtp-password
` + "```" + `

The password goes in a file of its own, readable by the node's account only. This asks for it without showing it and
keeps it out of the shell's history:

` + "```" + `sh
read -rs -p "SMTP password: " pw && printf '%s\n' "$pw" |
  sudo install -m 600 -o maillage -g maillage /dev/stdin /etc/maillage/smtp-password; unset pw
sudo systemctl restart maillage
` + "```" + `

- ` + "`" + `smtp://` + "`" + ` encrypts with STARTTLS, on port 587 unless another is given: the node sends nothing to a server that does
  not offer it (except a server on the same machine, ` + "`" + `localhost` + "`" + ` or ` + "`" + `127.0.0.1` + "`" + `, where mail never travels).
  ` + "`" + `smtps://` + "`" + ` is encrypted from the start, on port 465 by default.
- The user name goes in the URL, before the ` + "`" + `@` + "`" + ` of the server; an ` + "`" + `@` + "`" + ` inside it is written ` + "`" + `%40` + "`" + `. The password never
  goes in the URL, the environment or the config file: the node refuses them there.
- The password file must be readable by its owner only (` + "`" + `chmod 600` + "`" + `), as for an SSH key; a final line break is dropped.
  A Docker secret, under ` + "`" + `/run/secrets/` + "`" + `, is taken as Docker mounts it.
- The sender (` + "`" + `MAILLAGE_MAIL_FROM` + "`" + `) is an address of your association's domain that the provider lets this user send
  from, with or without a name before it.
- At start, the node checks these settings and refuses to start when one is wrong, saying which. It connects to the
  server only to send: the *E-mail* page sends a test message, and lists the mails waiting and those given up, with
  the server's answer.

### Who receives what

| what happens | who gets an e-mail |
| --- | --- |
| a referral arrives for one of your services, or its sender cancels it | the service's team |
| a partner answers a referral you sent: accepted, declined, on hold, completed, failed | the worker who sent it |
| a referral received is still unanswered after 10 days (` + "`" + `--referral-reminder-after` + "`" + `) | the service's team |
| a referral will expire in 3 days without an answer (` + "`" + `--referral-expiry-warning` + "`" + `) | the service's team, and the worker who sent it |
| the resident withdrew consent, and the referral's data was erased | the service's team |
| the partner erased its copy of a referral you sent | the worker who sent it |
| a partnership is requested, accepted or ended | the admins |
| a service has not been reviewed for 6 months (` + "`" + `--service-review-after` + "`" + `) | the admins |

The service's team is the staff who ticked that service in their settings; when nobody did, every worker. When the
worker who sent a referral has left, the admins are told instead.

### Each person's choices

In their *Notification settings*, each person chooses for each topic (referrals received, answers, reminders, consent
withdrawn, partnerships, services to review): *Straight away* (one e-mail each time), *In the daily digest* (one e-mail
a day, at the hour they pick, Brussels time) or *Never*. Whatever they choose, everything stays in their notifications
on the site. By default everything comes straight away, except services to review, which come in the digest at 8:00.
Each person also chooses the language of their e-mails (French, Dutch or English) and the services they handle.

Each notification e-mail ends with a link that stops that topic in one click, without signing in; mail programs that
show an *Unsubscribe* button use the same link.

### What an e-mail never holds

No resident's data: an e-mail says that something happened to a referral, gives its reference and the service, and
links to the page, which asks to sign in. The one exception is the consent receipt, which a resident asks for and which
goes to the address they give.

If the server cannot be reached or answers *try later*, mails wait in a queue and are tried again, less and less often
(after 1 minute, then up to every 6 hours), for 3 days. A mail the server refuses for good, such as one to an address
that does not exist, is not tried again. Both show on the *E-mails* page.

### Trying it with Mailpit

[Mailpit](https://mailpit.axllent.org) is a mail server for tests: it keeps every message it receives and shows them
in a web page, and delivers none. To see the node's e-mails on your own computer:

` + "```" + `sh
go install github.com/axllent/mailpit@v1.33.1
mailpit --smtp 127.0.0.1:1025 --listen 127.0.0.1:8025
maillage serve --data ./data --smtp-url smtp://127.0.0.1:1025 --mail-from noreply@maison.example.be
` + "```" + `

then open ` + "`" + `http://127.0.0.1:8025` + "`" + `. (Mailpit also comes as a program to download, and as a Docker image.)

## Commands
`,
	header:        "| Flag | Environment | Type | Default | Description |",
	noFlags:       "No flags.",
	empty:         "(empty)",
	readers:       "Which commands read each variable",
	readersHeader: "| Environment | Commands |",
	types:         map[string]string{"boolean": "boolean", "text": "text", "duration": "duration", "integer": "integer", "number": "number"},
}

// writeConfigReference writes the reference of every command's flags.
func writeConfigReference(w io.Writer, text referenceWords) error {
	var b bytes.Buffer
	b.WriteString(text.intro)
	readers := map[string][]string{} // environment variable → commands
	for _, cmd := range commands() {
		fs := flag.NewFlagSet(cmd.name, flag.ContinueOnError)
		cmd.define(fs)
		usage := "maillage " + cmd.name
		if hasFlags(fs) {
			usage += " [flags]"
		}
		if cmd.args != "" {
			usage += " " + cmd.args
		}
		fmt.Fprintf(&b, "\n### %s\n\n`%s`: %s.\n\n", cmd.name, usage, cmd.summary)
		if !hasFlags(fs) {
			b.WriteString(text.noFlags + "\n")
			continue
		}
		b.WriteString(text.header + "\n| --- | --- | --- | --- | --- |\n")
		fs.VisitAll(func(f *flag.Flag) {
			env := envName(f.Name)
			readers[env] = append(readers[env], cmd.name)
			def := text.empty
			if f.DefValue != "" {
				def = "`" + f.DefValue + "`"
			}
			typ := flagType(f)
			if tr, ok := text.types[typ]; ok {
				typ = tr
			}
			fmt.Fprintf(&b, "| `--%s` | `%s` | %s | %s | %s |\n", f.Name, env, typ, def, cell(f.Usage))
		})
	}
	fmt.Fprintf(&b, "\n## %s\n\n%s\n| --- | --- |\n", text.readers, text.readersHeader)
	envs := make([]string, 0, len(readers))
	for env := range readers {
		envs = append(envs, env)
	}
	slices.Sort(envs)
	for _, env := range envs {
		fmt.Fprintf(&b, "| `%s` | %s |\n", env, strings.Join(readers[env], ", "))
	}
	_, err := w.Write(b.Bytes())
	return err
}

func hasFlags(fs *flag.FlagSet) bool {
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	return n > 0
}

// flagType names the kind of value a flag takes.
func flagType(f *flag.Flag) string {
	g, ok := f.Value.(flag.Getter)
	if !ok {
		return "text"
	}
	switch g.Get().(type) {
	case bool:
		return "boolean"
	case string:
		return "text"
	case time.Duration:
		return "duration"
	case int, int64, uint, uint64:
		return "integer"
	case float64:
		return "number"
	}
	return fmt.Sprintf("%T", g.Get())
}

// cell makes text safe inside a Markdown table cell.
func cell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ", "<", "&lt;").Replace(s)
}

var referenceFR = referenceWords{
	intro: `# Référence de la configuration

<!-- Produit à partir des définitions des options par ` + "`go generate ./cmd/maillage`" + ` (qui lance ` + "`maillage config-reference --lang fr --out docs/configuration.fr.md`" + `).
     Ne pas modifier à la main : TestConfigurationReference échoue quand ce fichier et le code divergent. -->

Chaque réglage de ` + "`maillage`" + ` est une option de l'une de ses commandes. Les descriptions ci-dessous viennent du code,
en anglais, telles que ` + "`maillage <commande> --help`" + ` les affiche ; [configuration.md](configuration.md) est la même page en
anglais. Une option prend sa valeur de la première de ces sources qui la donne :

1. la ligne de commande : ` + "`maillage serve --listen 0.0.0.0:8080`" + ` ;
2. l'environnement : ` + "`MAILLAGE_`" + ` suivi du nom de l'option en majuscules, les tirets devenant des soulignés
   (` + "`MAILLAGE_LISTEN=0.0.0.0:8080`" + `) ;
3. le fichier de configuration donné par ` + "`--config`" + ` (ou ` + "`MAILLAGE_CONFIG`" + `), pour les commandes qui ont cette option
   (` + "`init`" + ` et ` + "`serve`" + `) ;
4. la valeur par défaut indiquée ci-dessous.

## Variables d'environnement

- Une variable sert à toutes les commandes qui ont une option de ce nom : ` + "`MAILLAGE_DATA`" + ` est le dossier de données de
  ` + "`serve`" + `, de ` + "`backup`" + `, de ` + "`user add`" + ` et des autres. Le tableau en fin de page dit quelles commandes lisent chaque
  variable : une variable posée pour une commande est lue aussi par les autres (` + "`MAILLAGE_NAME`" + `, posée pour ` + "`serve`" + `, est
  aussi le nom affiché que ` + "`user add`" + ` donne à un nouveau compte si ` + "`--name`" + ` n'est pas donné).
- Une variable ` + "`MAILLAGE_*`" + ` qu'aucune commande ne connaît arrête toute commande (code de sortie 2), qui la nomme : une
  faute de frappe ne passe jamais inaperçue.
- Une variable qui vaut la chaîne vide compte comme donnée : elle remplace la valeur du fichier de configuration par une
  valeur vide.

## Fichier de configuration

` + "```" + `
# /etc/maillage/maillage.conf
data = /var/lib/maillage
listen = "127.0.0.1:8080"
log-format = json
` + "```" + `

- Une ligne ` + "`clé = valeur`" + ` par réglage. Les clés sont les noms des options de la commande, sans les tirets ; les lignes
  vides et celles qui commencent par ` + "`#`" + ` sont ignorées (un ` + "`#`" + ` après une valeur fait partie de la valeur).
- Une valeur peut être entre guillemets doubles ou simples, qui sont retirés ; rien n'est déséchappé à l'intérieur.
- Une clé qui n'est pas une option de la commande, ` + "`config`" + ` elle-même, ou une ligne sans ` + "`=`" + ` est une erreur qui nomme
  le fichier et la ligne ; toutes ces lignes sont signalées ensemble, et la commande ne s'exécute pas.
- Seules ` + "`init`" + ` et ` + "`serve`" + ` lisent un fichier de configuration. N'y mettez pas de mot de passe : il va dans un fichier à
  lui (` + "`--admin-password-file`" + `, ` + "`--smtp-password-file`" + `).

## Valeurs

- Les durées s'écrivent comme en Go : ` + "`90s`" + `, ` + "`15m`" + `, ` + "`1h30m`" + `. Celles qui se comptent en jours acceptent aussi un
  nombre de jours : ` + "`10d`" + `.
- Booléens : ` + "`true`" + ` ou ` + "`false`" + ` (aussi ` + "`1`" + `, ` + "`0`" + `, ` + "`t`" + `, ` + "`f`" + `) ; sur la ligne de commande, l'option seule vaut ` + "`true`" + `.
- Code de sortie : 0 en cas de succès, 2 quand la ligne de commande ou la configuration est fausse, 1 pour tout autre
  échec.

## Envoi des e-mails

Sans ` + "`" + `--smtp-url` + "`" + `, le nœud n'envoie aucun e-mail : les notifications s'affichent seulement sur le site, sur la page
*Notifications* de chacun, et la page *E-mails* des admins indique que l'envoi d'e-mails n'est pas configuré. Le nœud
n'envoie alors pas non plus de lien pour réinitialiser un mot de passe, ni d'invitation aux nouveaux comptes de
l'équipe : un admin s'en charge.

### Activer l'envoi

Votre fournisseur de messagerie vous donne les trois informations nécessaires, celles qu'un logiciel de courrier
demande pour le *courrier sortant* : le nom du serveur, son port (le plus souvent 587), et un nom d'utilisateur avec son
mot de passe. Dans ` + "`" + `/etc/maillage/maillage.env` + "`" + ` (voir [install.fr.md](install.fr.md), étape 4) :

` + "```" + `
MAILLAGE_SMTP_URL=smtp://noreply%40maison.example.be@smtp.fournisseur.example:587
MAILLAGE_MAIL_FROM=Maison de quartier <noreply@maison.example.be>
MAILLAGE_SMTP_PASSWORD_FILE=/etc/maillage/smtp-password
` + "```" + `

Le mot de passe va dans un fichier à lui, que seul le compte du nœud peut lire. Ces lignes le demandent sans
l'afficher, et il ne reste pas dans l'historique du terminal :

` + "```" + `sh
read -rs -p "Mot de passe SMTP : " pw && printf '%s\n' "$pw" |
  sudo install -m 600 -o maillage -g maillage /dev/stdin /etc/maillage/smtp-password; unset pw
sudo systemctl restart maillage
` + "```" + `

- ` + "`" + `smtp://` + "`" + ` chiffre la connexion avec STARTTLS, sur le port 587 si aucun autre n'est donné : le nœud n'envoie rien à
  un serveur qui ne le propose pas (sauf à un serveur sur la même machine, ` + "`" + `localhost` + "`" + ` ou ` + "`" + `127.0.0.1` + "`" + `, d'où le courrier
  ne sort pas). ` + "`" + `smtps://` + "`" + ` chiffre dès le début, sur le port 465 par défaut.
- Le nom d'utilisateur se place dans l'URL, avant le ` + "`" + `@` + "`" + ` du serveur ; un ` + "`" + `@` + "`" + ` qu'il contient s'écrit ` + "`" + `%40` + "`" + `. Le mot de
  passe ne va jamais dans l'URL, l'environnement ou le fichier de configuration : le nœud l'y refuse.
- Le fichier du mot de passe ne doit être lisible que par son propriétaire (` + "`" + `chmod 600` + "`" + `), comme une clé SSH ; un
  retour à la ligne final est ignoré. Un secret Docker, sous ` + "`" + `/run/secrets/` + "`" + `, est accepté tel que Docker le monte.
- L'expéditeur (` + "`" + `MAILLAGE_MAIL_FROM` + "`" + `) est une adresse du domaine de votre association depuis laquelle le fournisseur
  laisse cet utilisateur envoyer, précédée ou non d'un nom.
- Au démarrage, le nœud vérifie ces réglages et refuse de démarrer si l'un d'eux est faux, en disant lequel. Il ne se
  connecte au serveur que pour envoyer : la page *E-mails* des admins envoie un message d'essai (*Tester l'envoi*), et
  liste les e-mails en attente et ceux abandonnés, avec la réponse du serveur.

### Qui reçoit quoi

| ce qui se passe | qui reçoit un e-mail |
| --- | --- |
| une orientation arrive pour un de vos services, ou son envoyeur l'annule | l'équipe du service |
| un partenaire répond à une orientation que vous avez envoyée : acceptée, refusée, en pause, clôturée, échouée | le travailleur qui l'a envoyée |
| une orientation reçue attend toujours une réponse après 10 jours (` + "`" + `--referral-reminder-after` + "`" + `) | l'équipe du service |
| une orientation va expirer dans 3 jours sans réponse (` + "`" + `--referral-expiry-warning` + "`" + `) | l'équipe du service, et le travailleur qui l'a envoyée |
| la personne a retiré son consentement, et les données de l'orientation ont été effacées | l'équipe du service |
| le partenaire a effacé sa copie d'une orientation que vous avez envoyée | le travailleur qui l'a envoyée |
| un partenariat est demandé, accepté ou prend fin | les admins |
| un service n'a pas été revu depuis 6 mois (` + "`" + `--service-review-after` + "`" + `) | les admins |

L'équipe du service, ce sont les membres de l'équipe qui ont coché ce service dans leurs réglages ; si personne ne l'a
fait, tous les travailleurs. Si le travailleur qui a envoyé une orientation est parti, ce sont les admins qui sont
prévenus.

### Les choix de chacun

Dans ses *Réglages des notifications*, chacun choisit pour chaque sujet (orientations reçues, réponses, rappels,
retraits de consentement, partenariats, services à revoir) : *Immédiatement* (un e-mail à chaque fois), *Dans le
résumé quotidien* (un e-mail par jour, à l'heure choisie, heure de Bruxelles) ou *Jamais*. Quel que soit son choix,
tout reste dans ses notifications sur le site. Par défaut, tout arrive immédiatement, sauf les services à revoir, qui
arrivent dans le résumé de 8 h. Chacun choisit aussi la langue de ses e-mails (français, néerlandais ou anglais) et les
services dont il s'occupe.

Chaque e-mail de notification se termine par un lien qui arrête ce sujet en un clic, sans se connecter ; les logiciels
de courrier qui affichent un bouton *Se désabonner* utilisent ce même lien.

### Ce qu'un e-mail ne contient jamais

Aucune donnée d'une personne accompagnée : un e-mail dit qu'il s'est passé quelque chose pour une orientation, en
donne la référence et le service, et renvoie vers la page, qui demande de se connecter. La seule exception est le reçu
de consentement, que la personne demande elle-même et qui part à l'adresse qu'elle donne.

Si le serveur est injoignable ou répond *réessayez plus tard*, les e-mails attendent dans une file et sont réessayés
de moins en moins souvent (après 1 minute, puis jusqu'à toutes les 6 heures), pendant 3 jours. Un e-mail que le serveur
refuse pour de bon, par exemple vers une adresse qui n'existe pas, n'est pas réessayé. Les deux apparaissent sur la
page *E-mails*.

### Essayer avec Mailpit

[Mailpit](https://mailpit.axllent.org) est un serveur de courrier pour les essais : il garde chaque message reçu et
les montre dans une page web, sans jamais les distribuer. Pour voir les e-mails du nœud sur votre ordinateur :

` + "```" + `sh
go install github.com/axllent/mailpit@v1.33.1
mailpit --smtp 127.0.0.1:1025 --listen 127.0.0.1:8025
maillage serve --data ./data --smtp-url smtp://127.0.0.1:1025 --mail-from noreply@maison.example.be
` + "```" + `

puis ouvrez ` + "`" + `http://127.0.0.1:8025` + "`" + `. (Mailpit existe aussi en programme à télécharger, et en image Docker.)

## Commandes
`,
	header:        "| Option | Environnement | Type | Par défaut | Description |",
	noFlags:       "Aucune option.",
	empty:         "(vide)",
	readers:       "Quelles commandes lisent chaque variable",
	readersHeader: "| Environnement | Commandes |",
	types:         map[string]string{"boolean": "booléen", "text": "texte", "duration": "durée", "integer": "entier", "number": "nombre"},
}
