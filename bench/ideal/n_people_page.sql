-- (n) the first 50 people by name with the total count, their current stints and organizations.
SELECT p.id, p.slug, p.name, p.aliases, (SELECT count(*) FROM people),
       e.id, e.title, o.id, o.name
FROM (SELECT * FROM people ORDER BY name, id LIMIT 51) p
LEFT JOIN employments e ON e.person_id = p.id AND e.is_current
LEFT JOIN organizations o ON o.id = e.organization_id
ORDER BY p.name, p.id, e.started_on, e.id;
