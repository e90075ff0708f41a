-- (d) a page of 20 publications by title, their authorships, persons and affiliations.
SELECT pub.id, pub.slug, pub.title, pub.published_on, pub.published_on_precision, pub.venue,
       a.position, p.id, p.slug, p.name, o.id, o.slug, o.name
FROM (SELECT * FROM publications ORDER BY title, id LIMIT 20) pub
LEFT JOIN authorships a ON a.publication_id = pub.id
LEFT JOIN people p ON p.id = a.person_id
LEFT JOIN organizations o ON o.id = a.affiliation_id
ORDER BY pub.title, pub.id, a.position;
