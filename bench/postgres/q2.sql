-- keyword + category: q=cours de francais&category=lecture-ecriture-calcul
WITH m AS MATERIALIZED (
	SELECT s.id, s.name_fr, s.actor, s.categories, ts_rank(s.tsv, query.q) AS r
	FROM services s, (SELECT (plainto_tsquery('french', unaccent('cours de francais')) || plainto_tsquery('dutch', unaccent('cours de francais')) || plainto_tsquery('english', unaccent('cours de francais'))) AS q) AS query
	WHERE s.tsv @@ query.q AND s.categories @> ARRAY['lecture-ecriture-calcul']
)
SELECT json_build_object(
	'total', (SELECT count(*) FROM m),
	'hits', (SELECT json_agg(h) FROM (SELECT id, name_fr FROM m ORDER BY r DESC, id LIMIT 20) h),
	'categories', (SELECT json_object_agg(c, n) FROM (SELECT c, count(*) AS n FROM m, unnest(m.categories) AS c GROUP BY c ORDER BY n DESC LIMIT 100) f),
	'organizations', (SELECT json_object_agg(actor, n) FROM (SELECT actor, count(*) AS n FROM m GROUP BY actor ORDER BY n DESC LIMIT 50) o));
