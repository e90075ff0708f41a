-- (e) org-00001's units by name, each with its first 10 current stints by start date and their persons.
SELECT o.id, o.name, u.id, u.slug, u.name, u.kind,
       e.id, e.title, e.started_on, e.started_on_precision, p.id, p.slug, p.name
FROM organizations o
LEFT JOIN organizations u ON u.parent_id = o.id
LEFT JOIN LATERAL (SELECT * FROM employments WHERE organization_id = u.id AND is_current
                   ORDER BY started_on, id LIMIT 10) e ON true
LEFT JOIN people p ON p.id = e.person_id
WHERE o.slug = 'org-00001'
ORDER BY u.name, u.id, e.started_on, e.id;
