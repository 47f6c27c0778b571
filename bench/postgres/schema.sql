-- The search benchmark's services in PostgreSQL, set up the way a
-- directory on PostgreSQL usually is: one tsvector per service over the
-- French, Dutch and English texts (unaccented, each with its language's
-- configuration, names weighted above descriptions) with a GIN index,
-- categories as an array with a GIN index, and points indexed for
-- distance with cube/earthdistance (GiST).
CREATE EXTENSION unaccent;
CREATE EXTENSION cube;
CREATE EXTENSION earthdistance;

CREATE TABLE services (
	id uuid PRIMARY KEY,
	name_fr text, name_nl text, name_en text,
	desc_fr text, desc_nl text, desc_en text,
	actor text NOT NULL,
	categories text[] NOT NULL,
	audiences text[] NOT NULL,
	languages text[] NOT NULL,
	fee text,
	referrals boolean NOT NULL,
	local boolean NOT NULL,
	lat double precision NOT NULL,
	lon double precision NOT NULL,
	tsv tsvector
);
CREATE TABLE slots (service_id uuid NOT NULL, day int NOT NULL, opens int NOT NULL, closes int NOT NULL);
CREATE TABLE exceptions (service_id uuid NOT NULL, date date NOT NULL, closed boolean NOT NULL);

\copy services (id, name_fr, name_nl, name_en, desc_fr, desc_nl, desc_en, actor, categories, audiences, languages, fee, referrals, local, lat, lon) FROM 'data/services.csv' WITH (FORMAT csv)
\copy slots FROM 'data/slots.csv' WITH (FORMAT csv)
\copy exceptions FROM 'data/exceptions.csv' WITH (FORMAT csv)

UPDATE services SET tsv =
	setweight(to_tsvector('french', unaccent(coalesce(name_fr, ''))), 'A') ||
	setweight(to_tsvector('dutch', unaccent(coalesce(name_nl, ''))), 'A') ||
	setweight(to_tsvector('english', unaccent(coalesce(name_en, ''))), 'A') ||
	setweight(to_tsvector('french', unaccent(coalesce(desc_fr, ''))), 'C') ||
	setweight(to_tsvector('dutch', unaccent(coalesce(desc_nl, ''))), 'C') ||
	setweight(to_tsvector('english', unaccent(coalesce(desc_en, ''))), 'C');

CREATE INDEX services_tsv ON services USING gin (tsv);
CREATE INDEX services_categories ON services USING gin (categories);
CREATE INDEX services_earth ON services USING gist (ll_to_earth(lat, lon));
CREATE INDEX slots_service ON slots (service_id, day);
CREATE INDEX exceptions_service ON exceptions (service_id, date);
VACUUM ANALYZE;
