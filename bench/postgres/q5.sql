-- postcode + radius by distance: postcode=1060&radius_km=2&sort=distance
WITH m AS MATERIALIZED (
	SELECT s.id, s.name_fr, s.actor, s.categories, earth_distance(ll_to_earth(50.8261, 4.3456), ll_to_earth(s.lat, s.lon)) AS d
	FROM services s
	WHERE earth_box(ll_to_earth(50.8261, 4.3456), 2000) @> ll_to_earth(s.lat, s.lon)
	  AND earth_distance(ll_to_earth(50.8261, 4.3456), ll_to_earth(s.lat, s.lon)) <= 2000
)
SELECT json_build_object(
	'total', (SELECT count(*) FROM m),
	'hits', (SELECT json_agg(h) FROM (SELECT id, name_fr FROM m ORDER BY d, id LIMIT 20) h),
	'categories', (SELECT json_object_agg(c, n) FROM (SELECT c, count(*) AS n FROM m, unnest(m.categories) AS c GROUP BY c ORDER BY n DESC LIMIT 100) f),
	'organizations', (SELECT json_object_agg(actor, n) FROM (SELECT actor, count(*) AS n FROM m GROUP BY actor ORDER BY n DESC LIMIT 50) o));
