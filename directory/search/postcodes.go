package search

import "github.com/maillage/maillage/directory"

// postcodes maps the postcodes of the Brussels-Capital Region to an
// approximate centre of the area they serve (WGS84), for searches "near a
// postcode". Institutional postcodes (single buildings) are left out.
var postcodes = map[string]directory.Point{
	"1000": {Lat: 50.8467, Lon: 4.3525}, // Bruxelles / Brussel
	"1020": {Lat: 50.8780, Lon: 4.3480}, // Laeken / Laken
	"1030": {Lat: 50.8676, Lon: 4.3737}, // Schaerbeek / Schaarbeek
	"1040": {Lat: 50.8333, Lon: 4.3886}, // Etterbeek
	"1050": {Lat: 50.8270, Lon: 4.3720}, // Ixelles / Elsene
	"1060": {Lat: 50.8261, Lon: 4.3456}, // Saint-Gilles / Sint-Gillis
	"1070": {Lat: 50.8365, Lon: 4.3081}, // Anderlecht
	"1080": {Lat: 50.8548, Lon: 4.3229}, // Molenbeek-Saint-Jean / Sint-Jans-Molenbeek
	"1081": {Lat: 50.8622, Lon: 4.3257}, // Koekelberg
	"1082": {Lat: 50.8651, Lon: 4.2922}, // Berchem-Sainte-Agathe / Sint-Agatha-Berchem
	"1083": {Lat: 50.8713, Lon: 4.3086}, // Ganshoren
	"1090": {Lat: 50.8777, Lon: 4.3266}, // Jette
	"1120": {Lat: 50.8940, Lon: 4.3880}, // Neder-over-Heembeek
	"1130": {Lat: 50.8890, Lon: 4.4190}, // Haren
	"1140": {Lat: 50.8703, Lon: 4.4030}, // Evere
	"1150": {Lat: 50.8296, Lon: 4.4318}, // Woluwe-Saint-Pierre / Sint-Pieters-Woluwe
	"1160": {Lat: 50.8155, Lon: 4.4331}, // Auderghem / Oudergem
	"1170": {Lat: 50.7992, Lon: 4.4160}, // Watermael-Boitsfort / Watermaal-Bosvoorde
	"1180": {Lat: 50.8027, Lon: 4.3405}, // Uccle / Ukkel
	"1190": {Lat: 50.8103, Lon: 4.3246}, // Forest / Vorst
	"1200": {Lat: 50.8467, Lon: 4.4307}, // Woluwe-Saint-Lambert / Sint-Lambrechts-Woluwe
	"1210": {Lat: 50.8535, Lon: 4.3730}, // Saint-Josse-ten-Noode / Sint-Joost-ten-Node
}

// PostcodeCentre returns the approximate centre of a Brussels postcode.
func PostcodeCentre(code string) (directory.Point, bool) {
	p, ok := postcodes[code]
	return p, ok
}
