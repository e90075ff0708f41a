-- (i) paper-1's authorships: person, affiliation, sources, and each author's current stints.
SELECT pub.id, pub.title, a.position, p.id, p.name, af.id, af.name, af.kind,
       (SELECT json_agg(json_build_object('id', s.id, 'url', s.url, 'title', s.title) ORDER BY s.id)
        FROM authorship_sources x JOIN sources s ON s.id = x.source_id WHERE x.authorship_id = a.id),
       (SELECT json_agg(json_build_object('id', e.id, 'title', e.title, 'org', o.id, 'name', o.name)
                        ORDER BY e.started_on, e.id)
        FROM employments e JOIN organizations o ON o.id = e.organization_id
        WHERE e.person_id = p.id AND e.is_current)
FROM publications pub
JOIN authorships a ON a.publication_id = pub.id
JOIN people p ON p.id = a.person_id
LEFT JOIN organizations af ON af.id = a.affiliation_id
WHERE pub.slug = 'paper-1'
ORDER BY a.position;
