// Package hsdsio imports HSDS 3.0 data into a node's catalog and exports
// the catalog as HSDS 3.0.
//
// Sources (Open) are an HSDS JSON document (a service, location or
// organization object, an organization with its services and locations,
// a Page of them, a service_at_location, an array, or the JSON form of
// tabular data), NDJSON (one record a line), HSDS tabular data (a
// directory of CSV files, or its datapackage.json) and the simple CSV
// template of cmd/maillage/docs/import-template.md. Every source is read one record at
// a time (Source.Read), with MaxRecord as the limit of one record, and
// each record comes converted to the model with every problem found.
//
// Import reads a source twice: once to check every record, alone and
// against the others (the locations a service names, the organization it
// belongs to), once to write the valid ones through the catalog, so that
// a dry run reports all there is to report and --strict can refuse a
// file before anything is written. Ids make a second import of the same
// file an update: a UUID is kept, any other id becomes a name-based UUID
// (MapID). Export writes the association, its locations and services in
// id order, so the same data gives the same bytes.
//
// cmd/maillage/docs/import-export.md says what HSDS holds that the model does not, and
// which of it is left out silently, left out with a note, or refused.
//
// Imports: the standard library, golang.org/x/text and directory.
package hsdsio
