#!/usr/bin/env python3
"""Writes similar-pairs.json: labelled pairs of services for the similarity
evaluation (TestSimilarityOnLabelledPairs). Run from this directory.

Each base below is a fictional Brussels service, written for Maillage. A pair
is labelled by how it was made and what a coordinator would say of it:

  duplicate  the same service entered twice: by two partners (a translated
             or reworded name and description, the address a few doors off),
             or twice by the same association;
  distinct   different services: the same theme in another commune, another
             theme in the same building, a look-alike name for another thing
             nearby (French class / Dutch class), two services of one
             association in one house;
  uncertain  a coordinator would ask: an antenna of the same association in
             the next commune, a town hall's social service and the public
             social-welfare centre (CPAS/OCMW) doing the same on the same
             square.

The list is deterministic (fixed offsets, no randomness), so the file only
changes with this script.
"""
import json
import math

# Places (lat, lon) in Brussels communes.
PLACES = {
    "saint-gilles": (50.8291, 4.3449), "anderlecht": (50.8366, 4.3086), "molenbeek": (50.8549, 4.3332),
    "schaerbeek": (50.8676, 4.3737), "ixelles": (50.8275, 4.3697), "etterbeek": (50.8365, 4.3892),
    "forest": (50.8108, 4.3174), "uccle": (50.8007, 4.3372), "laeken": (50.8800, 4.3540),
    "evere": (50.8706, 4.4020), "jette": (50.8780, 4.3270), "woluwe": (50.8430, 4.4280),
    "brussels-centre": (50.8467, 4.3525), "koekelberg": (50.8625, 4.3290), "auderghem": (50.8155, 4.4330),
}

# Bases: (key, names by language, description (fr), alternative description
# (nl or en, another writer's words), categories, audiences, languages).
BASES = [
    ("epicerie", {"fr": "Épicerie sociale"}, "Produits alimentaires et d’hygiène à petit prix pour les ménages à faibles revenus.",
     {"nl": "Voedingsproducten en verzorging aan lage prijzen voor gezinnen met een laag inkomen."},
     ["equipement-et-alimentation--alimentation"], ["familles", "beneficiaires-des-minimas-sociaux"], ["fr", "nl", "ar"],
     {"nl": "Sociale kruidenier"}),
    ("colis", {"fr": "Distribution de colis alimentaires"}, "Colis alimentaires chaque semaine pour les familles orientées par le CPAS.",
     {"nl": "Wekelijks voedselpakketten voor gezinnen doorverwezen door het OCMW."},
     ["equipement-et-alimentation--alimentation"], ["familles"], ["fr", "nl"], {"nl": "Uitdeling van voedselpakketten"}),
    ("restaurant", {"fr": "Restaurant social"}, "Repas chauds à un euro le midi, sans inscription.",
     {"en": "Hot lunches for one euro, no registration."},
     ["equipement-et-alimentation--alimentation", "remobilisation--lien-social"], ["tous-publics"], ["fr", "en"],
     {"en": "Community restaurant"}),
    ("vestiaire", {"fr": "Vestiaire solidaire"}, "Vêtements de seconde main gratuits pour adultes et enfants.",
     {"nl": "Gratis tweedehandskleding voor volwassenen en kinderen."},
     ["equipement-et-alimentation--habillement"], ["tous-publics"], ["fr", "nl"], {"nl": "Solidaire kledingwinkel"}),
    ("fle", {"fr": "Cours de français langue étrangère"}, "Cours de français pour adultes primo-arrivants, du niveau débutant au niveau B1.",
     {"en": "French classes for newly arrived adults, from beginner to B1 level."},
     ["lecture-ecriture-calcul--maitriser-le-francais"], ["personnes-exilees"], ["fr", "ar", "en"],
     {"en": "French as a foreign language"}),
    ("alpha", {"fr": "Alphabétisation pour adultes"}, "Apprendre à lire et écrire en français, en petits groupes, le matin.",
     {"nl": "Leren lezen en schrijven in het Frans, in kleine groepen, in de voormiddag."},
     ["lecture-ecriture-calcul--maitriser-le-francais"], ["tous-publics"], ["fr"], {"nl": "Alfabetisering voor volwassenen"}),
    ("ecrivain", {"fr": "Écrivain public"}, "Aide pour rédiger vos lettres et remplir vos formulaires administratifs.",
     {"nl": "Hulp bij het schrijven van brieven en het invullen van administratieve formulieren."},
     ["difficultes-administratives-ou-juridiques--accompagnement-aux-demarches-administratives"], ["tous-publics"], ["fr", "nl", "tr"],
     {"nl": "Openbare schrijver"}),
    ("juridique", {"fr": "Permanence juridique gratuite"}, "Un avocat répond à vos questions de droit du logement, du travail et de la famille.",
     {"en": "A lawyer answers your questions on housing, work and family law."},
     ["difficultes-administratives-ou-juridiques--accompagnement-pour-lacces-aux-droits"], ["tous-publics"], ["fr", "en"],
     {"en": "Free legal advice desk"}),
    ("dettes", {"fr": "Service de médiation de dettes"}, "Accompagnement des personnes surendettées : plan de paiement, négociation avec les créanciers.",
     {"nl": "Begeleiding van mensen met schulden: afbetalingsplan, onderhandeling met schuldeisers."},
     ["difficultes-financieres--situation-dendettement-surendettement"], ["tous-publics"], ["fr", "nl"],
     {"nl": "Dienst schuldbemiddeling"}),
    ("budget", {"fr": "Atelier gestion du budget"}, "Ateliers collectifs pour mieux gérer son budget familial.",
     {"nl": "Groepsworkshops om het gezinsbudget beter te beheren."},
     ["difficultes-financieres--ameliorer-sa-gestion-budgetaire"], ["familles"], ["fr", "nl"], {"nl": "Workshop budgetbeheer"}),
    ("logement", {"fr": "Cellule logement"}, "Aide à la recherche d’un logement et conseils sur les contrats de bail.",
     {"nl": "Hulp bij het zoeken naar een woning en advies over huurcontracten."},
     ["logement-hebergement--louer-un-logement"], ["tous-publics"], ["fr", "nl", "es"], {"nl": "Woonhulp"}),
    ("hebergement", {"fr": "Hébergement d’urgence pour femmes"}, "Accueil de nuit et hébergement temporaire pour femmes seules et avec enfants.",
     {"en": "Night shelter and temporary housing for women alone or with children."},
     ["logement-hebergement--rechercher-une-solution-dhebergement-temporaire"], ["femmes", "personnes-en-situation-durgence"], ["fr", "en"],
     {"en": "Emergency shelter for women"}),
    ("devoirs", {"fr": "École de devoirs"}, "Aide aux devoirs pour les enfants du primaire après l’école.",
     {"nl": "Huiswerkbegeleiding voor kinderen van de lagere school na schooltijd."},
     ["famille--soutien-a-la-parentalite-et-a-leducation"], ["jeunes", "familles"], ["fr", "nl"], {"nl": "Huiswerkklas"}),
    ("creche", {"fr": "Halte-garderie"}, "Accueil occasionnel des enfants de 0 à 3 ans pendant les démarches des parents.",
     {"nl": "Occasionele opvang voor kinderen van 0 tot 3 jaar terwijl de ouders hun zaken regelen."},
     ["famille--garde-denfants"], ["familles"], ["fr", "nl"], {"nl": "Occasionele kinderopvang"}),
    ("numerique", {"fr": "Espace public numérique"}, "Ordinateurs en libre accès et aide pour les démarches en ligne.",
     {"nl": "Vrij toegankelijke computers en hulp bij onlinediensten."},
     ["numerique--acceder-a-des-services-en-ligne"], ["tous-publics"], ["fr", "nl"], {"nl": "Openbare computerruimte"}),
    ("formation-num", {"fr": "Initiation à l’informatique"}, "Apprendre à utiliser un ordinateur, une boîte mail et un smartphone.",
     {"en": "Learn to use a computer, email and a smartphone."},
     ["numerique--maitriser-les-fondamentaux-du-numerique"], ["seniors"], ["fr", "en"], {"en": "Computer basics for beginners"}),
    ("emploi", {"fr": "Job coaching"}, "Accompagnement individuel dans la recherche d’emploi, CV et lettres de motivation.",
     {"nl": "Individuele begeleiding bij het zoeken naar werk, cv en motivatiebrieven."},
     ["trouver-un-emploi--repondre-a-des-offres-demploi", "preparer-sa-candidature--realiser-un-cv-et-ou-une-lettre-de-motivation"],
     ["demandeurs-emploi"], ["fr", "nl", "en"], {"nl": "Jobcoaching"}),
    ("sante", {"fr": "Maison médicale"}, "Consultations de médecine générale au forfait, sans frais pour le patient.",
     {"nl": "Huisartsenconsultaties aan een forfait, zonder kosten voor de patiënt."},
     ["sante--acces-aux-soins"], ["tous-publics"], ["fr", "nl", "ar"], {"nl": "Wijkgezondheidscentrum"}),
    ("mentale", {"fr": "Écoute psychologique"}, "Entretiens gratuits avec un psychologue pour les personnes en souffrance.",
     {"en": "Free talks with a psychologist for people in distress."},
     ["sante--sante-mentale"], ["tous-publics"], ["fr", "en"], {"en": "Psychological support"}),
    ("sport", {"fr": "Football de quartier"}, "Entraînements de football gratuits pour les jeunes du quartier le mercredi.",
     {"nl": "Gratis voetbaltrainingen voor jongeren uit de buurt op woensdag."},
     ["remobilisation--activites-sportives-et-culturelles"], ["jeunes"], ["fr", "nl"], {"nl": "Buurtvoetbal"}),
    ("seniors", {"fr": "Club des aînés"}, "Rencontres, jeux et sorties pour les personnes âgées isolées.",
     {"nl": "Ontmoetingen, spelletjes en uitstappen voor geïsoleerde ouderen."},
     ["remobilisation--lien-social"], ["seniors"], ["fr", "nl"], {"nl": "Seniorenclub"}),
    ("permis", {"fr": "Préparation au permis de conduire théorique"}, "Cours pour réussir l’examen théorique du permis B.",
     {"nl": "Lessen om te slagen voor het theoretisch examen van rijbewijs B."},
     ["mobilite--preparer-un-permis"], ["jeunes", "demandeurs-emploi"], ["fr", "nl", "ar"], {"nl": "Voorbereiding theoretisch rijexamen"}),
    ("nl-cours", {"fr": "Cours de néerlandais"}, "Cours de néerlandais pour adultes, niveaux débutant et intermédiaire.",
     {"en": "Dutch classes for adults, beginner and intermediate levels."},
     ["se-former--trouver-sa-formation"], ["actifs", "demandeurs-emploi"], ["fr", "nl", "en"], {"en": "Dutch classes"}),
    ("reparation", {"fr": "Repair café"}, "Réparez vos petits appareils avec l’aide de bénévoles, un samedi par mois.",
     {"nl": "Herstel je kleine toestellen met de hulp van vrijwilligers, één zaterdag per maand."},
     ["equipement-et-alimentation--electromenager", "remobilisation--benevolat-action-citoyenne"], ["tous-publics"], ["fr", "nl"],
     {"nl": "Repair café"}),
]

# Communes each base is in, and a second one for the same association's
# antenna.
HOME = ["saint-gilles", "anderlecht", "molenbeek", "schaerbeek", "ixelles", "etterbeek", "forest", "laeken",
        "brussels-centre", "jette", "evere", "koekelberg"]
FAR = {"saint-gilles": "evere", "anderlecht": "woluwe", "molenbeek": "auderghem", "schaerbeek": "uccle", "ixelles": "jette",
       "etterbeek": "anderlecht", "forest": "schaerbeek", "laeken": "ixelles", "brussels-centre": "woluwe", "jette": "auderghem",
       "evere": "forest", "koekelberg": "woluwe"}
NEXT = {"saint-gilles": "forest", "anderlecht": "molenbeek", "molenbeek": "koekelberg", "schaerbeek": "evere", "ixelles": "etterbeek",
        "etterbeek": "ixelles", "forest": "saint-gilles", "laeken": "jette", "brussels-centre": "saint-gilles", "jette": "koekelberg",
        "evere": "schaerbeek", "koekelberg": "molenbeek"}


def moved(p, north_m, east_m):
    lat, lon = p
    return (round(lat + north_m / 111_200, 6), round(lon + east_m / (111_320 * math.cos(math.radians(lat))), 6))


def service(base, place, names=None, description=None, suffix=""):
    key, name, desc, alt_desc, cats, aud, langs, alt_name = base
    n = dict(names or name)
    if suffix:
        n = {l: v + suffix for l, v in n.items()}
    return {"name": n, "description": description or {"fr": desc}, "categories": cats, "audiences": aud,
            "languages": langs, "point": list(place)}


pairs = []


def pair(label, note, a, b):
    pairs.append({"label": label, "note": note, "a": a, "b": b})


for i, base in enumerate(BASES):
    key, name, desc, alt_desc, cats, aud, langs, alt_name = base
    home = PLACES[HOME[i % len(HOME)]]
    commune = HOME[i % len(HOME)]
    a = service(base, home)
    # Duplicates: another partner's entry in the other language, a few
    # doors off; the same association entering it twice with a reworded
    # name; a third partner's entry with only the Dutch or English name.
    pair("duplicate", f"{key}: a partner's translated entry, 60 m off", a,
         service(base, moved(home, 40, 45), names={**alt_name, **name}, description=alt_desc))
    pair("duplicate", f"{key}: entered twice, name reworded", a,
         service(base, home, names={"fr": name["fr"] + " – " + commune.replace("-", " ").title()}))
    pair("duplicate", f"{key}: a partner's entry in another language only, same door", a,
         service(base, home, names=alt_name, description=alt_desc))
    # Distinct: the same theme in a commune far off.
    far = FAR[commune]
    pair("distinct", f"{key}: same theme in {far}", a, service(base, PLACES[far], names={"fr": name["fr"] + " de " + far.title()}))
    # Distinct: another service in the same building.
    other = BASES[(i + 7) % len(BASES)]
    pair("distinct", f"{key}: {other[0]} in the same building", a, service(other, moved(home, 5, 0)))
    # Distinct: another service of the same theme family nearby.
    other2 = BASES[(i + 3) % len(BASES)]
    pair("distinct", f"{key}: {other2[0]} 400 m away", a, service(other2, moved(home, 300, 260)))
    # Uncertain: the association's antenna in the next commune.
    nxt = NEXT[commune]
    pair("uncertain", f"{key}: the association's antenna in {nxt}", a,
         service(base, PLACES[nxt], names={"fr": name["fr"] + " – antenne " + nxt.replace("-", " ").title()}))

# Hand-made hard cases.
fle = next(b for b in BASES if b[0] == "fle")
nl = next(b for b in BASES if b[0] == "nl-cours")
pair("distinct", "French class and Dutch class in one house", service(fle, PLACES["molenbeek"]), service(nl, moved(PLACES["molenbeek"], 10, 10)))
pair("distinct", "French literacy and a French class for newcomers, same street",
     service(next(b for b in BASES if b[0] == "alpha"), PLACES["schaerbeek"]), service(fle, moved(PLACES["schaerbeek"], 120, 0)))
colis = next(b for b in BASES if b[0] == "colis")
epi = next(b for b in BASES if b[0] == "epicerie")
pair("uncertain", "a food-parcel distribution and a social grocery on one square (both food aid)",
     service(colis, PLACES["anderlecht"]), service(epi, moved(PLACES["anderlecht"], 80, 60)))
ecr = next(b for b in BASES if b[0] == "ecrivain")
pair("uncertain", "the town hall's help with forms and the CPAS's public writer, same square",
     service(ecr, PLACES["forest"], names={"fr": "Aide administrative de la commune"}),
     service(ecr, moved(PLACES["forest"], 60, -40), names={"fr": "Écrivain public du CPAS"}))

for p in pairs:
    assert p["label"] in ("duplicate", "distinct", "uncertain")

with open("similar-pairs.json", "w", encoding="utf-8") as f:
    json.dump({"licence": "Written for Maillage; fictional services.", "pairs": pairs}, f, ensure_ascii=False, indent=1)
print(len(pairs), "pairs:", {l: sum(p["label"] == l for p in pairs) for l in ("duplicate", "distinct", "uncertain")})
