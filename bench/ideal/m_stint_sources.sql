-- (m) org-00002's first 50 stints by start date, each stint's person and sources.
SELECT o.id, o.name, e.id, e.title, e.started_on, e.started_on_precision, e.ended_on, e.ended_on_precision,
       p.id, p.name, s.id, s.url, s.title, s.publisher
FROM organizations o
JOIN LATERAL (SELECT * FROM employments WHERE organization_id = o.id
              ORDER BY started_on, id LIMIT 50) e ON true
JOIN people p ON p.id = e.person_id
LEFT JOIN employment_sources es ON es.employment_id = e.id
LEFT JOIN sources s ON s.id = es.source_id
WHERE o.slug = 'org-00002'
ORDER BY e.started_on, e.id, s.id;
