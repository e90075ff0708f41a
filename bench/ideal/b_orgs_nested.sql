-- (b) the first 50 organizations by name, each with its first 20 stints (by start date) and each stint's person.
SELECT o.id, o.slug, o.name, o.kind, o.country,
       e.id, e.title, e.started_on, e.started_on_precision, e.ended_on, e.ended_on_precision, e.is_current,
       p.id, p.slug, p.name
FROM (SELECT * FROM organizations ORDER BY name, id LIMIT 50) o
LEFT JOIN LATERAL (SELECT * FROM employments WHERE organization_id = o.id
                   ORDER BY started_on, id LIMIT 20) e ON true
LEFT JOIN people p ON p.id = e.person_id
ORDER BY o.name, o.id, e.started_on, e.id;
