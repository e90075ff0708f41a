-- (c) the first 50 alumni (by name) of org-00001, their stints and each stint's organization.
SELECT o.id, o.slug, o.name,
       p.id, p.slug, p.name,
       e.id, e.title, e.started_on, e.started_on_precision, e.ended_on, e.ended_on_precision, e.is_current,
       eo.id, eo.slug, eo.name
FROM organizations o
JOIN LATERAL (SELECT m.person_id, m.person_name FROM tree_members m
              WHERE m.tree_id = o.id AND NOT m.is_current
              ORDER BY m.person_name, m.person_id LIMIT 50) a ON true
JOIN people p ON p.id = a.person_id
LEFT JOIN employments e ON e.person_id = p.id
LEFT JOIN organizations eo ON eo.id = e.organization_id
WHERE o.slug = 'org-00001'
ORDER BY a.person_name, a.person_id, e.started_on, e.id;
