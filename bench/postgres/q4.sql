-- category + open at: category=sante&open_at=2026-12-21T10:30:00Z (Monday 11:30 in Brussels)
WITH m AS MATERIALIZED (
	SELECT s.id, s.name_fr, s.actor, s.categories, 0 AS r
	FROM services s
	WHERE s.categories @> ARRAY['sante']
	  AND NOT EXISTS (SELECT 1 FROM exceptions e WHERE e.service_id = s.id AND e.date = '2026-12-21')
	  AND EXISTS (SELECT 1 FROM slots t WHERE t.service_id = s.id AND t.day = 1 AND t.opens <= 690 AND 690 < t.closes)
)
SELECT json_build_object(
	'total', (SELECT count(*) FROM m),
	'hits', (SELECT json_agg(h) FROM (SELECT id, name_fr FROM m ORDER BY id LIMIT 20) h),
	'categories', (SELECT json_object_agg(c, n) FROM (SELECT c, count(*) AS n FROM m, unnest(m.categories) AS c GROUP BY c ORDER BY n DESC LIMIT 100) f),
	'organizations', (SELECT json_object_agg(actor, n) FROM (SELECT actor, count(*) AS n FROM m GROUP BY actor ORDER BY n DESC LIMIT 50) o));
