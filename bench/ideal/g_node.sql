-- (g) one person by primary key (what a global id decodes to), their stints and organizations.
\set n random(1, :people)
SELECT p.id, p.slug, p.name,
       e.id, e.title, e.started_on, e.started_on_precision, e.ended_on, e.ended_on_precision,
       o.id, o.name
FROM people p
LEFT JOIN employments e ON e.person_id = p.id
LEFT JOIN organizations o ON o.id = e.organization_id
WHERE p.id = (SELECT min(id) FROM people) + :n - 1
ORDER BY e.career_position NULLS LAST, e.started_on, e.id;
