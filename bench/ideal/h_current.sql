-- (h) a person's current stints, each stint's organization and its parent.
\set n random(1, :people)
SELECT p.id, p.name, e.id, e.title, e.started_on, e.started_on_precision,
       o.id, o.slug, o.name, par.id, par.slug, par.name
FROM people p
LEFT JOIN employments e ON e.person_id = p.id AND e.is_current
LEFT JOIN organizations o ON o.id = e.organization_id
LEFT JOIN organizations par ON par.id = o.parent_id
WHERE p.slug = 'person-' || :n
ORDER BY e.started_on, e.id;
