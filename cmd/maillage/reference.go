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
  (` + "`--admin-password-file`" + `).

## Values

- Durations are written as Go writes them: ` + "`90s`" + `, ` + "`15m`" + `, ` + "`1h30m`" + `.
- Booleans: ` + "`true`" + ` or ` + "`false`" + ` (also ` + "`1`" + `, ` + "`0`" + `, ` + "`t`" + `, ` + "`f`" + `); on the command line the flag alone means ` + "`true`" + `.
- Exit status: 0 on success, 2 when the command line or the configuration is wrong, 1 on any other failure.

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
  lui (` + "`--admin-password-file`" + `).

## Valeurs

- Les durées s'écrivent comme en Go : ` + "`90s`" + `, ` + "`15m`" + `, ` + "`1h30m`" + `.
- Booléens : ` + "`true`" + ` ou ` + "`false`" + ` (aussi ` + "`1`" + `, ` + "`0`" + `, ` + "`t`" + `, ` + "`f`" + `) ; sur la ligne de commande, l'option seule vaut ` + "`true`" + `.
- Code de sortie : 0 en cas de succès, 2 quand la ligne de commande ou la configuration est fausse, 1 pour tout autre
  échec.

## Commandes
`,
	header:        "| Option | Environnement | Type | Par défaut | Description |",
	noFlags:       "Aucune option.",
	empty:         "(vide)",
	readers:       "Quelles commandes lisent chaque variable",
	readersHeader: "| Environnement | Commandes |",
	types:         map[string]string{"boolean": "booléen", "text": "texte", "duration": "durée", "integer": "entier", "number": "nombre"},
}
