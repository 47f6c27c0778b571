-- keyword + radius: q=voedselpakket&near=50.8467,4.3525&radius_km=3
WITH m AS MATERIALIZED (
	SELECT s.id, s.name_fr, s.actor, s.categories, ts_rank(s.tsv, query.q) AS r
	FROM services s, (SELECT (plainto_tsquery('french', unaccent('voedselpakket')) || plainto_tsquery('dutch', unaccent('voedselpakket')) || plainto_tsquery('english', unaccent('voedselpakket'))) AS q) AS query
	WHERE s.tsv @@ query.q
	  AND earth_box(ll_to_earth(50.8467, 4.3525), 3000) @> ll_to_earth(s.lat, s.lon)
	  AND earth_distance(ll_to_earth(50.8467, 4.3525), ll_to_earth(s.lat, s.lon)) <= 3000
)
SELECT json_build_object(
	'total', (SELECT count(*) FROM m),
	'hits', (SELECT json_agg(h) FROM (SELECT id, name_fr FROM m ORDER BY r DESC, id LIMIT 20) h),
	'categories', (SELECT json_object_agg(c, n) FROM (SELECT c, count(*) AS n FROM m, unnest(m.categories) AS c GROUP BY c ORDER BY n DESC LIMIT 100) f),
	'organizations', (SELECT json_object_agg(actor, n) FROM (SELECT actor, count(*) AS n FROM m GROUP BY actor ORDER BY n DESC LIMIT 50) o));
