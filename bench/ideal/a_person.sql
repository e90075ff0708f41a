-- (a) one person by slug, their stints (chronological) and each stint's organization.
\set n random(1, :people)
SELECT p.id, p.slug, p.name, p.aliases, p.bio,
       e.id, e.title, e.started_on, e.started_on_precision, e.ended_on, e.ended_on_precision, e.is_current,
       o.id, o.slug, o.name, o.kind, o.country
FROM people p
LEFT JOIN employments e ON e.person_id = p.id
LEFT JOIN organizations o ON o.id = e.organization_id
WHERE p.slug = 'person-' || :n
ORDER BY e.career_position NULLS LAST, e.started_on, e.id;
