-- (f) the first 50 organizations by name, their founders and their leaders' stints.
SELECT o.id, o.slug, o.name,
       (SELECT json_agg(json_build_object('id', p.id, 'slug', p.slug, 'name', p.name) ORDER BY p.name, p.id)
        FROM employments e JOIN people p ON p.id = e.person_id
        WHERE e.organization_id = o.id AND e.is_founder),
       (SELECT json_agg(json_build_object('id', e.id, 'title', e.title, 'person', p.id, 'name', p.name))
        FROM employments e JOIN people p ON p.id = e.person_id
        WHERE e.organization_id = o.id AND e.is_leader)
FROM (SELECT * FROM organizations ORDER BY name, id LIMIT 50) o
ORDER BY o.name, o.id;
