package web

import (
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/maillage/maillage/directory"
)

// The capacity, its age, the dated changes and the review read as
// sentences in each language, every key built in code present (units,
// plurals, months).
func TestCapacityAndPeriodWords(t *testing.T) {
	now := time.Date(2026, 12, 21, 9, 30, 0, 0, directory.Brussels())
	page := func(l directory.Lang) *pageData { return &pageData{Lang: l, now: now, missing: new([]string)} }
	ago := func(d time.Duration) time.Time { return now.Add(-d) }
	tests := []struct {
		lang directory.Lang
		got  func(p *pageData) string
		want string
	}{
		{directory.FR, func(p *pageData) string {
			return capacityOf(p, &directory.Capacity{Available: 3, Maximum: 12, Updated: ago(2 * time.Hour)}).Text
		}, "Places libres : 3 sur 12"},
		{directory.NL, func(p *pageData) string {
			return capacityOf(p, &directory.Capacity{Available: 3, Maximum: 12, Updated: ago(2 * time.Hour)}).Text
		}, "Vrije plaatsen: 3 van de 12"},
		{directory.FR, func(p *pageData) string { return updatedAgo(p, ago(2*time.Hour)) }, "mis à jour il y a 2 h"},
		{directory.NL, func(p *pageData) string { return updatedAgo(p, ago(2*time.Hour)) }, "2 uur geleden bijgewerkt"},
		{directory.EN, func(p *pageData) string { return updatedAgo(p, ago(5*time.Minute)) }, "updated 5 min ago"},
		{directory.FR, func(p *pageData) string { return updatedAgo(p, ago(30*time.Hour)) }, "mis à jour hier"},
		{directory.NL, func(p *pageData) string { return updatedAgo(p, ago(4*24*time.Hour)) }, "4 dagen geleden bijgewerkt"},
		{directory.FR, func(p *pageData) string { return updatedAgo(p, ago(40*24*time.Hour)) }, "mis à jour le 11 novembre 2026"},
		{directory.FR, func(p *pageData) string { return updatedAgo(p, now.Add(time.Minute)) }, "mis à jour à l’instant"},
		{directory.FR, func(p *pageData) string {
			return capacityOf(p, &directory.Capacity{Available: 2, Unit: directory.UnitHouseholds}).Text
		}, "Ménages pouvant encore être accueillis : 2"},
		{directory.EN, func(p *pageData) string {
			return capacityOf(p, &directory.Capacity{Available: 1, Unit: directory.UnitAppointments}).Text
		}, "Appointments free: 1"},
		{directory.NL, func(p *pageData) string { return capacityOf(p, &directory.Capacity{Unit: directory.UnitPersons}).Text }, "Momenteel volzet"},
		{directory.FR, func(p *pageData) string {
			return capacityOf(p, &directory.Capacity{Waiting: &directory.WaitingList{Length: 8, DelayDays: 30}}).Text
		}, "Liste d’attente : 8 personnes en attente, environ 30 jours d’attente"},
		{directory.NL, func(p *pageData) string {
			return capacityOf(p, &directory.Capacity{Waiting: &directory.WaitingList{Length: 1, DelayDays: 1}}).Text
		}, "Wachtlijst: 1 persoon wacht, ongeveer 1 dag wachten"},
		{directory.EN, func(p *pageData) string {
			return capacityOf(p, &directory.Capacity{Waiting: &directory.WaitingList{}}).Text
		}, "Waiting list"},
		{directory.FR, func(p *pageData) string {
			return capacityOf(p, &directory.Capacity{NotAcceptingUntil: "2027-01-01"}).Text
		},
			"Pas de nouvelle inscription jusqu’au 1er janvier 2027 inclus"},
		{directory.NL, func(p *pageData) string {
			return capacityOf(p, &directory.Capacity{NotAcceptingUntil: "2027-01-01"}).Text
		},
			"Geen nieuwe inschrijvingen tot en met 1 januari 2027"},
		{directory.FR, func(p *pageData) string { return dayRange(p, parseDay("2026-12-20"), parseDay("2026-12-31")) }, "du 20 au 31 décembre"},
		{directory.NL, func(p *pageData) string { return dayRange(p, parseDay("2026-12-20"), parseDay("2026-12-31")) }, "van 20 tot en met 31 december"},
		{directory.FR, func(p *pageData) string { return dayRange(p, parseDay("2026-12-24"), parseDay("2027-01-03")) },
			"du 24 décembre 2026 au 3 janvier 2027"},
		{directory.FR, func(p *pageData) string { return dayRange(p, parseDay("2027-07-01"), parseDay("2027-08-31")) },
			"du 1er juillet au 31 août 2027"},
		{directory.EN, func(p *pageData) string { return dayRange(p, parseDay("2026-12-24"), parseDay("2026-12-24")) }, "on 24 December"},
		{directory.FR, func(p *pageData) string {
			return periodsOf(p, directory.Schedule{Periods: []directory.Period{{From: "2026-12-20", To: "2026-12-31", Closed: true}}})[0].Text
		}, "Fermé du 20 au 31 décembre"},
		{directory.NL, func(p *pageData) string {
			v := periodsOf(p, directory.Schedule{Periods: []directory.Period{{From: "2027-01-04", To: "2027-01-15",
				Hours: []directory.Slot{{Day: time.Monday, Opens: 600, Closes: 720}}}}})[0]
			return v.Text + " | " + v.Hours[0]
		}, "Andere openingsuren van 4 tot en met 15 januari 2027 | maandag: van 10:00 tot 12:00"},
		{directory.FR, func(p *pageData) string {
			return closedUntil(p, directory.Schedule{Periods: []directory.Period{{From: "2026-12-20", To: "2026-12-31", Closed: true}}})
		}, "Fermé jusqu’au 31 décembre"},
		{directory.FR, func(p *pageData) string {
			return freshnessOf(p, &directory.Service{Reviewed: time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)}, 0).Text
		}, "Vérifié le 3 décembre 2026"},
		{directory.FR, func(p *pageData) string {
			return freshnessOf(p, &directory.Service{Reviewed: time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)}, 182*24*time.Hour).Text
		}, "Pas vérifié depuis plus de 6 mois (dernière vérification le 1er juin 2026)"},
		{directory.NL, func(p *pageData) string {
			return freshnessOf(p, &directory.Service{Reviewed: time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)}, 182*24*time.Hour).Text
		}, "Al meer dan 6 maanden niet nagekeken (laatst op 1 juni 2026)"},
		{directory.NL, func(p *pageData) string { return plural(p, "admin review due", 3) }, "3 diensten zijn al lang niet meer nagekeken."},
	}
	for _, tt := range tests {
		p := page(tt.lang)
		if got := tt.got(p); got != tt.want {
			t.Errorf("in %s: %q, want %q", tt.lang, got, tt.want)
		}
		if len(*p.missing) > 0 {
			t.Errorf("in %s: messages missing: %v", tt.lang, *p.missing)
		}
	}
	// Every unit in every language.
	for _, l := range directory.Langs {
		p := page(l)
		for _, u := range directory.CapacityUnits {
			unitLabel(p, u)
			p.T("capacity unit " + u)
		}
		if len(*p.missing) > 0 {
			t.Errorf("in %s: messages missing: %v", l, *p.missing)
		}
	}
	// Periods long past or far ahead are not shown; one starting within a
	// month is announced.
	p := page(directory.FR)
	got := periodsOf(p, directory.Schedule{Periods: []directory.Period{
		{From: "2026-11-01", To: "2026-11-30", Closed: true},
		{From: "2027-03-01", To: "2027-03-05", Closed: true},
		{From: "2027-01-10", To: "2027-01-12", Message: directory.T(directory.NL, "Verhuis")},
	}})
	if len(got) != 1 || got[0].Now || got[0].Message.Text != "Verhuis" || got[0].Message.Lang != directory.NL {
		t.Errorf("periods shown: %+v, want the one starting within a month, announced", got)
	}
}

// The editor's period blocks: other hours written as people write them
// are read; hours that cannot be read are refused with the block's
// number, the text typed kept; a block ticked "remove" or left empty is
// left out; hours read back as the admin's language writes them.
func TestPeriodsFromForm(t *testing.T) {
	p := &pageData{Lang: directory.NL, now: time.Date(2026, 12, 21, 9, 30, 0, 0, time.UTC), missing: new([]string)}
	form := url.Values{
		"per_from":   {"2027-07-01", "2026-12-24", "2027-02-01", ""},
		"per_to":     {"2027-08-31", "2026-12-31", "", ""},
		"per_hours":  {"maandag 10:00-12:00; woensdag 14:00-16:00", "", "bla bla", ""},
		"per_closed": {"1"},
		"per_remove": {"1"},
		"per_msg_fr": {"Horaires d’été", "", "", ""},
		"per_msg_nl": {"Zomeruren", "", "", ""},
		"per_msg_en": {"", "", "", ""},
	}
	periods, rows, problems := periodsFromForm(form, p)
	if len(periods) != 2 || len(rows) != 3 {
		t.Fatalf("%d periods, %d blocks: want the summer hours and the unreadable block, and an empty block", len(periods), len(rows))
	}
	summer := periods[0]
	want := []directory.Slot{{Day: time.Monday, Opens: 600, Closes: 720}, {Day: time.Wednesday, Opens: 840, Closes: 960}}
	if summer.From != "2027-07-01" || summer.To != "2027-08-31" || summer.Closed || !slices.Equal(summer.Hours, want) ||
		summer.Message[directory.FR] != "Horaires d’été" || summer.Message[directory.NL] != "Zomeruren" {
		t.Errorf("the summer hours read %+v", summer)
	}
	if periods[1].To != "2027-02-01" {
		t.Errorf("a block without its last day lasts its first: %+v", periods[1])
	}
	if len(problems) != 1 || problems[0] != "Periode 2: deze openingsuren zijn niet leesbaar; schrijf de dagen en de uren, bijvoorbeeld „maandag 10:00-12:00; woensdag 14:00-16:00”." {
		t.Errorf("problems %q", problems)
	}
	if rows[1].Hours != "bla bla" || rows[1].N != 2 || !rows[2].New {
		t.Errorf("blocks shown again: %+v", rows)
	}
	if got := hoursText(p, want); got != "maandag 10:00-12:00; woensdag 14:00-16:00" {
		t.Errorf("hours written back %q", got)
	}
	if len(*p.missing) > 0 {
		t.Errorf("messages missing: %v", *p.missing)
	}
}
