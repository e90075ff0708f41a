// talentgraph explore: organization, person and publication pages drawn from
// the public GraphQL API only. Plain JavaScript, no build step; d3 and
// d3-sankey are vendored next to this file.
(function () {
  'use strict';

  var BASE = '/explore';
  var main = document.getElementById('main');
  var queryTexts = {};

  // ---- small helpers -------------------------------------------------------

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === 'text') node.textContent = attrs[key];
      else if (attrs[key] !== undefined && attrs[key] !== null) node.setAttribute(key, attrs[key]);
    });
    (children || []).forEach(function (child) {
      if (child === null || child === undefined) return;
      node.appendChild(typeof child === 'string' ? document.createTextNode(child) : child);
    });
    return node;
  }

  function link(kind, slug, label) {
    return el('a', { href: BASE + '/' + kind + '/' + encodeURIComponent(slug), 'data-nav': '' }, [label]);
  }

  function chips(items, kind, label) {
    if (!items.length) return el('p', { class: 'meta', text: 'None recorded.' });
    return el('ul', { class: 'chips' }, items.map(function (item) {
      return el('li', {}, [link(kind, item.slug, label ? label(item) : item.name)]);
    }));
  }

  function today() {
    return new Date().toISOString().slice(0, 10);
  }

  // A partial date's first and last day: "2023" -> 2023-01-01 .. 2023-12-31.
  function period(text) {
    if (!text) return null;
    var parts = text.split('-').map(Number);
    var first = new Date(Date.UTC(parts[0], (parts[1] || 1) - 1, parts[2] || 1));
    var last;
    if (parts.length === 3) last = first;
    else if (parts.length === 2) last = new Date(Date.UTC(parts[0], parts[1], 0));
    else last = new Date(Date.UTC(parts[0], 11, 31));
    return { first: first, last: last };
  }

  function loading(what) {
    main.replaceChildren(el('p', { class: 'loading', role: 'status', text: 'Loading ' + what + '…' }));
  }

  function failed(error) {
    main.replaceChildren(
      el('div', { class: 'error', role: 'alert' }, [
        el('strong', { text: 'Could not load this page. ' }),
        String(error && error.message ? error.message : error)
      ]),
      el('p', {}, [el('a', { href: BASE, 'data-nav': '' }, ['Back to the start'])])
    );
  }

  function heading(text, meta) {
    var h1 = el('h1', { tabindex: '-1', text: text });
    return [h1].concat(meta ? [el('p', { class: 'meta' }, meta)] : []);
  }

  async function queryText(name) {
    if (!queryTexts[name]) {
      var response = await fetch(BASE + '/assets/' + name + '.graphql');
      if (!response.ok) throw new Error('the ' + name + ' query is missing (HTTP ' + response.status + ')');
      queryTexts[name] = await response.text();
    }
    return queryTexts[name];
  }

  async function graphql(name, variables) {
    var query = await queryText(name);
    var response = await fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ query: query, variables: variables })
    });
    var body = null;
    try { body = await response.json(); } catch (e) { body = null; }
    if (!body) throw new Error('the API answered HTTP ' + response.status);
    if (body.errors && body.errors.length) {
      throw new Error(body.errors.map(function (e) { return e.message; }).join('; '));
    }
    return body.data;
  }

  // ---- routing -------------------------------------------------------------

  function navigate(href) {
    history.pushState(null, '', href);
    route();
  }

  document.addEventListener('click', function (event) {
    var a = event.target.closest && event.target.closest('a[data-nav]');
    if (!a || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
    event.preventDefault();
    navigate(a.getAttribute('href'));
  });
  window.addEventListener('popstate', route);

  document.getElementById('search-form').addEventListener('submit', function (event) {
    event.preventDefault();
    var q = document.getElementById('search-input').value.trim();
    if (q) navigate(BASE + '/search?q=' + encodeURIComponent(q));
  });

  async function route() {
    var path = location.pathname.slice(BASE.length).split('/').filter(Boolean).map(decodeURIComponent);
    var params = new URLSearchParams(location.search);
    try {
      if (path[0] === 'organization' && path[1]) await organizationPage(path[1], params);
      else if (path[0] === 'person' && path[1]) await personPage(path[1]);
      else if (path[0] === 'publication' && path[1]) await publicationPage(path[1]);
      else if (path[0] === 'search') await searchPage(params.get('q') || '');
      else homePage();
      var h1 = main.querySelector('h1');
      if (h1 && document.activeElement !== document.getElementById('search-input')) h1.focus({ preventScroll: true });
      document.title = (h1 ? h1.textContent + ' — ' : '') + 'talentgraph explore';
      main.setAttribute('data-ready', 'true');
    } catch (error) {
      failed(error);
      main.setAttribute('data-ready', 'error');
    }
  }

  // ---- home and search -----------------------------------------------------

  function homePage() {
    main.replaceChildren.apply(main, heading('Explore who worked where, and how we know it').concat([
      el('p', {}, ['Pick a starting point, or search above.']),
      el('ul', {}, [
        el('li', {}, [link('organization', 'meta', 'Meta'), ': where its people came from and went']),
        el('li', {}, [link('publication', 'llama-2023', 'LLaMA (2023)'), ': who of its 14 authors stayed and who left']),
        el('li', {}, [link('person', 'guillaume-lample', 'Guillaume Lample'), ': a career, bar by bar'])
      ])
    ]));
  }

  async function searchPage(q) {
    document.getElementById('search-input').value = q;
    loading('results for “' + q + '”');
    var data = await graphql('search', { query: q });
    var kinds = { Person: 'person', Organization: 'organization', Publication: 'publication' };
    var items = data.search.map(function (hit) {
      var kind = kinds[hit.__typename];
      return el('li', {}, [el('span', { class: 'kind', text: hit.__typename }), link(kind, hit.slug, hit.name || hit.title)]);
    });
    main.replaceChildren.apply(main, heading('Search: ' + q, [data.search.length + ' found']).concat([
      items.length ? el('ul', { class: 'results' }, items) : el('p', { text: 'Nothing matches. Try a surname, an organization or a title.' })
    ]));
  }

  // ---- organization --------------------------------------------------------

  async function organizationPage(slug, params) {
    loading('the organization');
    var settings = {
      slug: slug,
      since: params.get('since') || null,
      until: params.get('until') || null,
      from: params.get('from') || '2015-01-01',
      to: params.get('to') || today(),
      interval: params.get('interval') || 'QUARTER'
    };
    var data = await graphql('organization', settings);
    var org = data.organization;
    if (!org) throw new Error('no organization has the slug “' + slug + '”');

    var meta = [org.kind.replace('_', ' ').toLowerCase()];
    if (org.country) meta.push(' · ' + org.country);
    if (org.foundedOn) meta.push(' · founded ' + org.foundedOn);
    var metaNodes = [meta.join('')];
    if (org.parent) metaNodes.push(' · part of ', link('organization', org.parent.slug, org.parent.name));
    if (org.website) metaNodes.push(' · ', el('a', { href: org.website, rel: 'noopener' }, [org.website.replace(/^https?:\/\//, '')]));

    var flowForm = controls([
      ['since', 'Moves since', 'date', settings.since || ''],
      ['until', 'until', 'date', settings.until || '']
    ], 'Show moves', function (values) {
      updateQuery({ since: values.since, until: values.until });
    });

    var headcountForm = controls([
      ['from', 'From', 'date', settings.from],
      ['to', 'to', 'date', settings.to],
      ['interval', 'every', ['YEAR', 'QUARTER', 'MONTH'], settings.interval]
    ], 'Count', function (values) {
      updateQuery({ from: values.from, to: values.to, interval: values.interval });
    });

    var flows = el('div', { class: 'chart', id: 'flows' });
    var band = el('div', { class: 'chart', id: 'headcount' });
    main.replaceChildren.apply(main, heading(org.name, metaNodes).concat([
      el('section', { 'aria-labelledby': 'flows-h' }, [
        el('h2', { id: 'flows-h', text: 'Talent flows' }),
        el('p', { class: 'meta', text: 'Where people came from (left) and went (right); widths count people. Undated moves count only when no dates are set.' }),
        flowForm, flows, flowTable(org)
      ]),
      el('div', { class: 'grid' }, [
        el('section', {}, [el('h2', { text: 'Alumni (' + org.alumni.totalCount + ')' }), chips(org.alumni.nodes, 'person')]),
        el('section', {}, [el('h2', { text: 'Units' }), chips(org.units, 'organization'),
          el('h2', { text: 'Founders' }), chips(org.founders, 'person')])
      ]),
      el('section', { 'aria-labelledby': 'headcount-h' }, [
        el('h2', { id: 'headcount-h', text: 'Headcount over time' }),
        el('p', { class: 'meta', text: 'People inside (units included): the band runs from how many the dates prove (certainly) to how many they allow (possibly).' }),
        headcountForm, band, headcountTable(org.headcount)
      ])
    ]));
    drawFlows(flows, org);
    drawBand(band, org.headcount);
  }

  function updateQuery(values) {
    var params = new URLSearchParams(location.search);
    Object.keys(values).forEach(function (key) {
      if (values[key]) params.set(key, values[key]); else params.delete(key);
    });
    var query = params.toString();
    navigate(location.pathname + (query ? '?' + query : ''));
  }

  function controls(fields, submit, onSubmit) {
    var form = el('form', { class: 'controls' });
    fields.forEach(function (field) {
      var input;
      if (Array.isArray(field[2])) {
        input = el('select', { name: field[0] }, field[2].map(function (option) {
          var o = el('option', { value: option, text: option.toLowerCase() });
          if (option === field[3]) o.selected = true;
          return o;
        }));
      } else {
        input = el('input', { name: field[0], type: field[2], value: field[3] });
      }
      form.appendChild(el('label', {}, [field[1], input]));
    });
    form.appendChild(el('button', { type: 'submit', text: submit }));
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      var values = {};
      fields.forEach(function (field) { values[field[0]] = form.elements[field[0]].value; });
      onSubmit(values);
    });
    return form;
  }

  function peopleLinks(people) {
    var span = el('span');
    people.forEach(function (person, i) {
      if (i) span.appendChild(document.createTextNode(', '));
      span.appendChild(link('person', person.slug, person.name));
    });
    return span;
  }

  function flowTable(org) {
    var rows = [];
    org.inbound.forEach(function (f) {
      rows.push(el('tr', {}, [el('td', { text: 'in, from' }), el('td', {}, [link('organization', f.from.slug, f.from.name)]),
        el('td', { class: 'num', text: String(f.count) }), el('td', {}, [peopleLinks(f.people)])]));
    });
    org.outbound.forEach(function (f) {
      rows.push(el('tr', { 'data-flow': 'out:' + f.to.slug }, [el('td', { text: 'out, to' }), el('td', {}, [link('organization', f.to.slug, f.to.name)]),
        el('td', { class: 'num', text: String(f.count) }), el('td', {}, [peopleLinks(f.people)])]));
    });
    if (!rows.length) return el('p', { class: 'meta', text: 'No moves recorded in this range.' });
    return el('details', {}, [el('summary', { text: 'The flows as a table' }),
      el('div', { class: 'table-wrap' }, [el('table', {}, [
        el('thead', {}, [el('tr', {}, [el('th', { text: 'direction' }), el('th', { text: 'organization' }), el('th', { class: 'num', text: 'people' }), el('th', { text: 'who' })])]),
        el('tbody', {}, rows)])])]);
  }

  // A Sankey diagram: inbound organizations -> this one -> outbound ones.
  function drawFlows(container, org) {
    var nodes = [{ id: 'self', name: org.name, slug: org.slug, side: 'self' }];
    var links = [];
    org.inbound.forEach(function (f) {
      nodes.push({ id: 'in:' + f.from.slug, name: f.from.name, slug: f.from.slug, side: 'in' });
      links.push({ source: 'in:' + f.from.slug, target: 'self', value: f.count, people: f.people });
    });
    org.outbound.forEach(function (f) {
      nodes.push({ id: 'out:' + f.to.slug, name: f.to.name, slug: f.to.slug, side: 'out' });
      links.push({ source: 'self', target: 'out:' + f.to.slug, value: f.count, people: f.people });
    });
    sankey(container, nodes, links, org.name + ': people in and out');
  }

  function sankey(container, nodes, links, title) {
    if (!links.length) {
      container.replaceChildren(el('p', { class: 'meta', text: 'No moves to draw.' }));
      return;
    }
    var width = Math.max(320, Math.min(container.clientWidth || 900, 1120));
    var narrow = width < 600;
    var sideCount = Math.max(nodes.filter(function (n) { return n.side === 'in'; }).length,
      nodes.filter(function (n) { return n.side === 'out'; }).length, 1);
    var height = Math.max(220, sideCount * (narrow ? 44 : 36));
    var margin = narrow ? 92 : 200;
    var shift = nodes.some(function (n) { return n.side === 'in'; }) ? 1 : 0;
    var layout = d3.sankey()
      .nodeId(function (d) { return d.id; })
      // Columns: inbound (when there are any), this organization, outbound.
      .nodeAlign(function (node) { return node.side === 'in' ? 0 : node.side === 'self' ? shift : shift + 1; })
      .nodeWidth(14)
      .nodePadding(narrow ? 14 : 10)
      .nodeSort(null)
      .extent([[margin, 10], [width - margin, height - 10]]);
    var graph = layout({ nodes: nodes.map(function (d) { return Object.assign({}, d); }), links: links.map(function (d) { return Object.assign({}, d); }) });

    var svg = d3.create('svg').attr('viewBox', [0, 0, width, height]).attr('width', width).attr('height', height)
      .attr('role', 'img').attr('aria-label', title);
    svg.append('g').attr('fill', 'none').selectAll('path').data(graph.links).join('path')
      .attr('d', d3.sankeyLinkHorizontal())
      .attr('stroke', function (d) { return d.target.side === 'out' ? 'var(--out)' : 'var(--in)'; })
      .attr('stroke-opacity', 0.35)
      .attr('stroke-width', function (d) { return Math.max(1, d.width); })
      .append('title').text(function (d) {
        return d.source.name + ' → ' + d.target.name + ': ' + d.value + '\n' + d.people.map(function (p) { return p.name; }).join(', ');
      });
    var node = svg.append('g').selectAll('g').data(graph.nodes).join('g');
    node.append('rect').attr('x', function (d) { return d.x0; }).attr('y', function (d) { return d.y0; })
      .attr('height', function (d) { return Math.max(1, d.y1 - d.y0); }).attr('width', function (d) { return d.x1 - d.x0; })
      .attr('fill', function (d) { return d.side === 'self' ? 'var(--accent)' : d.side === 'out' ? 'var(--out)' : 'var(--in)'; });
    var anchor = node.filter(function (d) { return d.side !== 'self'; }).append('a')
      .attr('href', function (d) { return BASE + '/organization/' + encodeURIComponent(d.slug); })
      .attr('data-nav', '');
    anchor.append('title').text(function (d) { return d.name + ': ' + d.value; });
    var label = anchor.append('text')
      .attr('x', function (d) { return d.side === 'in' ? d.x0 - 6 : d.x1 + 6; })
      .attr('y', function (d) { return (d.y0 + d.y1) / 2; })
      .attr('dy', '0.35em')
      .attr('text-anchor', function (d) { return d.side === 'in' ? 'end' : 'start'; });
    label.append('tspan').text(function (d) { return narrow && d.name.length > 10 ? d.name.slice(0, 8) + '…' : d.name; });
    label.append('tspan').attr('class', 'count').attr('dx', 6).text(function (d) { return d.value; });
    node.filter(function (d) { return d.side === 'self'; }).append('text')
      .attr('x', function (d) { return (d.x0 + d.x1) / 2; }).attr('y', function (d) { return Math.max(12, d.y0 - 6); })
      .attr('text-anchor', 'middle').attr('class', 'count').text(function (d) { return d.name; });
    container.replaceChildren(svg.node());
  }

  function headcountTable(points) {
    return el('details', {}, [el('summary', { text: 'The headcount as a table' }),
      el('div', { class: 'table-wrap' }, [el('table', {}, [
        el('thead', {}, [el('tr', {}, [el('th', { text: 'on' }), el('th', { class: 'num', text: 'certainly' }), el('th', { class: 'num', text: 'possibly' })])]),
        el('tbody', {}, points.map(function (p) {
          return el('tr', {}, [el('td', { text: p.on }), el('td', { class: 'num', text: String(p.certainly) }), el('td', { class: 'num', text: String(p.possibly) })]);
        }))])])]);
  }

  // The headcount as a band between what the dates prove and what they allow.
  function drawBand(container, points) {
    if (!points.length) {
      container.replaceChildren(el('p', { class: 'meta', text: 'No days to count.' }));
      return;
    }
    var width = Math.max(320, Math.min(container.clientWidth || 900, 1120));
    var height = 240;
    var m = { top: 12, right: 16, bottom: 28, left: 36 };
    var data = points.map(function (p) { return { on: period(p.on).first, certainly: p.certainly, possibly: p.possibly }; });
    var x = d3.scaleUtc().domain(d3.extent(data, function (d) { return d.on; })).range([m.left, width - m.right]);
    var y = d3.scaleLinear().domain([0, Math.max(1, d3.max(data, function (d) { return d.possibly; }))]).nice().range([height - m.bottom, m.top]);
    var svg = d3.create('svg').attr('viewBox', [0, 0, width, height]).attr('width', width).attr('height', height)
      .attr('role', 'img').attr('aria-label', 'Headcount: certainly and possibly, over time');
    svg.append('path').datum(data).attr('fill', 'var(--band)')
      .attr('d', d3.area().x(function (d) { return x(d.on); })
        .y0(function (d) { return y(d.certainly); }).y1(function (d) { return y(d.possibly); }));
    [['possibly', '#6b8fd6', '4 3'], ['certainly', 'var(--accent)', null]].forEach(function (series) {
      svg.append('path').datum(data).attr('fill', 'none').attr('stroke', series[1]).attr('stroke-width', 2)
        .attr('stroke-dasharray', series[2])
        .attr('d', d3.line().x(function (d) { return x(d.on); }).y(function (d) { return y(d[series[0]]); }));
    });
    // The counts hold on the days counted: each is marked; the lines between
    // them only guide the eye.
    svg.append('g').selectAll('circle').data(data).join('circle')
      .attr('cx', function (d) { return x(d.on); }).attr('cy', function (d) { return y(d.certainly); })
      .attr('r', data.length > 60 ? 1.5 : 3).attr('fill', 'var(--accent)')
      .append('title').text(function (d) { return d.on.toISOString().slice(0, 10) + ': certainly ' + d.certainly + ', possibly ' + d.possibly; });
    svg.append('g').attr('transform', 'translate(0,' + (height - m.bottom) + ')').call(d3.axisBottom(x).ticks(Math.max(2, Math.floor(width / 110))));
    svg.append('g').attr('transform', 'translate(' + m.left + ',0)').call(d3.axisLeft(y).ticks(5).tickFormat(d3.format('d')));
    var last = points[points.length - 1];
    container.replaceChildren(
      el('div', { class: 'legend' }, [
        el('span', {}, [el('span', { class: 'swatch', style: 'background: var(--accent)' }), 'certainly (' + last.certainly + ' on ' + last.on + ')']),
        el('span', {}, [el('span', { class: 'swatch', style: 'background: var(--band)' }), 'possibly (' + last.possibly + ')'])
      ]),
      svg.node());
  }

  // ---- person --------------------------------------------------------------

  async function personPage(slug) {
    loading('the person');
    var data = await graphql('person', { slug: slug });
    var person = data.person;
    if (!person) throw new Error('no person has the slug “' + slug + '”');
    var meta = [];
    if (person.aliases.length) meta.push('also written ' + person.aliases.join(', '));
    var timeline = el('div', { class: 'chart', id: 'timeline' });
    var rows = person.employments.map(function (e) {
      var dates = (e.startedOn || '?') + ' – ' + (e.isCurrent ? 'now' : (e.endedOn || '?'));
      var notes = [];
      if (e.isFounder) notes.push('founder');
      if (e.isLeader) notes.push('leader');
      if (e.reportedYears) notes.push('about ' + e.reportedYears + ' years, as reported');
      var evidence = e.attestations.map(function (a) {
        return el('div', {}, [(a.claim === 'ENDED' ? 'ended by ' : 'seen in progress on ') + a.on + ' — ',
          el('a', { href: a.source.url, rel: 'noopener' }, [a.source.title || a.source.url])]);
      });
      return el('tr', { id: 'stint-' + e.id }, [
        el('td', {}, [link('organization', e.organization.slug, e.organization.name)]),
        el('td', { text: e.title || '' }),
        el('td', { text: dates + (notes.length ? ' (' + notes.join(', ') + ')' : '') }),
        el('td', {}, evidence.concat(e.sources.map(function (s) {
          return el('div', {}, [el('a', { href: s.url, rel: 'noopener' }, [s.title || s.url]), s.publishedOn ? ' (' + s.publishedOn + ')' : '']);
        })))
      ]);
    });
    var papers = person.authorships.map(function (a) {
      return el('li', {}, [link('publication', a.publication.slug, a.publication.title),
        a.publication.publishedOn ? ' (' + a.publication.publishedOn + ')' : '',
        a.affiliation ? ', with ' : '', a.affiliation ? link('organization', a.affiliation.slug, a.affiliation.name) : null]);
    });
    main.replaceChildren.apply(main, heading(person.name, meta.length ? meta : null).concat([
      person.bio ? el('p', { text: person.bio }) : null,
      el('section', { 'aria-labelledby': 'career-h' }, [
        el('h2', { id: 'career-h', text: 'Career' }),
        el('div', { class: 'legend' }, [
          el('span', {}, [el('span', { class: 'swatch', style: 'background: var(--accent)' }), 'known to be there']),
          el('span', {}, [el('span', { class: 'swatch', style: 'background: linear-gradient(90deg, transparent, var(--accent))' }), 'unknown or partial bound']),
          el('span', {}, ['◆ attested on a date by a source'])
        ]),
        timeline,
        el('div', { class: 'table-wrap' }, [el('table', {}, [
          el('thead', {}, [el('tr', {}, ['where', 'title', 'when', 'sources'].map(function (h) { return el('th', { text: h }); }))]),
          el('tbody', {}, rows)])])
      ]),
      papers.length ? el('section', {}, [el('h2', { text: 'Publications' }), el('ul', {}, papers)]) : null
    ].filter(Boolean)));
    drawTimeline(timeline, person.employments);
  }

  // One bar per stint, in career order. Known bounds are solid; an unknown or
  // partial bound fades out; attestations are diamonds.
  function drawTimeline(container, stints) {
    if (!stints.length) {
      container.replaceChildren(el('p', { class: 'meta', text: 'No stints recorded.' }));
      return;
    }
    var now = period(today()).first;
    var days = [now];
    stints.forEach(function (s) {
      [s.startedOn, s.endedOn].forEach(function (d) { if (d) { days.push(period(d).first, period(d).last); } });
      s.attestations.forEach(function (a) { days.push(period(a.on).first); });
    });
    var earliest = d3.min(days);
    var start = d3.utcYear.offset(d3.utcYear.floor(earliest), -3);
    var width = Math.max(320, Math.min(container.clientWidth || 900, 1120));
    var narrow = width < 600;
    var labelWidth = narrow ? 0 : 190;
    var rowHeight = narrow ? 44 : 30;
    var m = { top: 6, right: 12, bottom: 26, left: labelWidth + 8 };
    var height = m.top + m.bottom + stints.length * rowHeight;
    var x = d3.scaleUtc().domain([start, now]).range([m.left, width - m.right]);
    var svg = d3.create('svg').attr('viewBox', [0, 0, width, height]).attr('width', width).attr('height', height)
      .attr('role', 'img').attr('aria-label', 'Career timeline');
    var defs = svg.append('defs');
    [['fade-in', 0, 1], ['fade-out', 1, 0]].forEach(function (g) {
      var gradient = defs.append('linearGradient').attr('id', g[0]);
      gradient.append('stop').attr('offset', '0%').attr('stop-color', '#2457c5').attr('stop-opacity', g[1]);
      gradient.append('stop').attr('offset', '100%').attr('stop-color', '#2457c5').attr('stop-opacity', g[2]);
    });
    svg.append('g').attr('transform', 'translate(0,' + (height - m.bottom) + ')').call(d3.axisBottom(x).ticks(Math.max(2, Math.floor(width / 100))));

    // Where each stint is known to be going on: from its start (or its
    // earliest attestation) to its end (or its latest attestation; today if
    // current).
    var known = stints.map(function (s) {
      var attested = s.attestations.filter(function (a) { return a.claim === 'IN_PROGRESS'; }).map(function (a) { return period(a.on); });
      var solidFrom = s.startedOn ? period(s.startedOn).last : (attested.length ? d3.min(attested, function (p) { return p.last; }) : null);
      var solidTo = s.isCurrent ? now : (s.endedOn ? period(s.endedOn).first : (attested.length ? d3.max(attested, function (p) { return p.first; }) : null));
      if (s.isCurrent && !solidFrom) solidFrom = now;
      return { from: solidFrom, to: solidTo };
    });
    stints.forEach(function (s, i) {
      var y = m.top + i * rowHeight + (narrow ? 16 : 4);
      var barHeight = narrow ? 18 : 20;
      var endedBy = s.attestations.filter(function (a) { return a.claim === 'ENDED'; }).map(function (a) { return period(a.on).last; });
      var solidFrom = known[i].from;
      var solidTo = known[i].to;
      // An unknown start fades in from the previous stint's last known day
      // (careers are listed in order) or the chart's start; an unknown end
      // fades out up to the next stint's first known day, a source saying it
      // had ended, or today.
      var previous = i > 0 ? known[i - 1].to : null;
      var next = i + 1 < known.length ? known[i + 1].from : null;
      var mayFrom = s.startedOn ? period(s.startedOn).first : (previous && solidFrom && previous < solidFrom ? previous : start);
      var mayTo = s.isCurrent ? now : (s.endedOn ? period(s.endedOn).last
        : (endedBy.length ? d3.min(endedBy) : (next && solidTo && next > solidTo ? next : now)));
      if (mayFrom < start) mayFrom = start;
      if (mayTo > now) mayTo = now;
      var bar = svg.append('a').attr('href', '#stint-' + s.id)
        .attr('aria-label', s.organization.name + ': sources');
      bar.append('title').text(s.organization.name + (s.title ? ', ' + s.title : '') + ': ' + (s.startedOn || 'start unknown') + ' to ' + (s.isCurrent ? 'now' : (s.endedOn || 'end unknown')) + ' — click for its sources');
      if (solidFrom && solidTo && solidTo >= solidFrom) {
        bar.append('rect').attr('x', x(mayFrom)).attr('width', Math.max(0, x(solidFrom) - x(mayFrom))).attr('y', y).attr('height', barHeight).attr('fill', 'url(#fade-in)');
        bar.append('rect').attr('x', x(solidFrom)).attr('width', Math.max(2, x(solidTo) - x(solidFrom))).attr('y', y).attr('height', barHeight).attr('fill', '#2457c5');
        bar.append('rect').attr('x', x(solidTo)).attr('width', Math.max(0, x(mayTo) - x(solidTo))).attr('y', y).attr('height', barHeight).attr('fill', 'url(#fade-out)');
      } else {
        // Nothing proves a single day: a faint bar over everything the dates allow.
        bar.append('rect').attr('x', x(mayFrom)).attr('width', Math.max(2, x(mayTo) - x(mayFrom))).attr('y', y).attr('height', barHeight)
          .attr('fill', '#2457c5').attr('fill-opacity', 0.18).attr('stroke', '#2457c5').attr('stroke-dasharray', '3 3');
      }
      var text = s.organization.name + (s.title ? ' — ' + s.title : '');
      if (narrow) {
        bar.append('text').attr('x', m.left).attr('y', y - 4).text(text.length > 46 ? text.slice(0, 45) + '…' : text);
      } else {
        bar.append('text').attr('x', labelWidth).attr('y', y + barHeight / 2).attr('dy', '0.35em').attr('text-anchor', 'end')
          .text(text.length > 27 ? text.slice(0, 26) + '…' : text);
      }
      s.attestations.forEach(function (a) {
        var p = period(a.on);
        var cx = x(a.claim === 'ENDED' ? p.last : p.first);
        var mark = svg.append('a').attr('href', a.source.url).attr('rel', 'noopener');
        mark.append('title').text((a.claim === 'ENDED' ? 'Ended by ' : 'In progress on ') + a.on + ' according to ' + (a.source.title || a.source.url));
        mark.append('path').attr('d', d3.symbol(d3.symbolDiamond, 90)()).attr('transform', 'translate(' + cx + ',' + (y + barHeight / 2) + ')')
          .attr('fill', '#f59e0b').attr('stroke', '#1d2430').attr('class', 'attestation');
      });
    });
    container.replaceChildren(svg.node());
  }

  // ---- publication ---------------------------------------------------------

  async function publicationPage(slug) {
    loading('the publication');
    var data = await graphql('publication', { slug: slug });
    var publication = data.publication;
    if (!publication) throw new Error('no publication has the slug “' + slug + '”');
    // The cohort is the authors of the most common affiliation.
    var counts = {};
    publication.authors.forEach(function (a) { if (a.affiliation) counts[a.affiliation.slug] = (counts[a.affiliation.slug] || 0) + 1; });
    var organization = Object.keys(counts).sort(function (a, b) { return counts[b] - counts[a]; })[0];
    var retention = null;
    if (organization) {
      retention = (await graphql('retention', { slug: slug, organization: organization })).publication.retention;
    }
    var meta = [publication.publishedOn ? 'published ' + publication.publishedOn : 'date unknown'];
    if (publication.venue) meta.push(' · ' + publication.venue);
    if (publication.url) meta.push(' · ', el('a', { href: publication.url, rel: 'noopener' }, [publication.url.replace(/^https?:\/\//, '')]));
    var flows = el('div', { class: 'chart', id: 'retention' });
    var sections = heading(publication.title, meta);
    if (retention) {
      var org = retention.organization;
      sections.push(el('section', { 'aria-labelledby': 'retention-h' }, [
        el('h2', { id: 'retention-h' }, ['Who stayed at ', link('organization', org.slug, org.name)]),
        el('p', {}, [
          el('span', { class: 'stat', 'data-stat': 'stayed' }, [el('span', { class: 'big', text: String(retention.stayed.length) }), ' stayed']),
          el('span', { class: 'stat', 'data-stat': 'left' }, [el('span', { class: 'big', text: String(retention.left.length) }), ' left']),
          el('span', { class: 'stat', 'data-stat': 'total' }, [el('span', { class: 'big', text: String(retention.total) }), ' authors with ' + org.name])
        ]),
        flows,
        el('div', { class: 'grid' }, [
          el('div', {}, [el('h2', { text: 'Stayed' }), chips(retention.stayed, 'person')]),
          el('div', {}, [el('h2', { text: 'Left, and where they went' }), el('div', { class: 'table-wrap' }, [el('table', {}, [
            el('thead', {}, [el('tr', {}, [el('th', { text: 'to' }), el('th', { class: 'num', text: 'people' }), el('th', { text: 'who' })])]),
            el('tbody', {}, retention.destinations.map(function (d) {
              return el('tr', { 'data-flow': 'out:' + d.to.slug }, [el('td', {}, [link('organization', d.to.slug, d.to.name)]),
                el('td', { class: 'num', text: String(d.count) }), el('td', {}, [peopleLinks(d.people)])]);
            }))])])])
        ])
      ]));
    }
    sections.push(el('section', {}, [el('h2', { text: 'Authors' }), el('ol', {}, publication.authors.map(function (a) {
      return el('li', {}, [link('person', a.person.slug, a.person.name), a.affiliation ? ' (' + a.affiliation.name + ')' : '']);
    }))]));
    main.replaceChildren.apply(main, sections);
    if (retention) {
      var nodes = [{ id: 'self', name: retention.organization.name, slug: retention.organization.slug, side: 'self' }];
      var links = [];
      if (retention.stayed.length) {
        nodes.push({ id: 'out:' + retention.organization.slug, name: 'Stayed at ' + retention.organization.name, slug: retention.organization.slug, side: 'out' });
        links.push({ source: 'self', target: 'out:' + retention.organization.slug, value: retention.stayed.length, people: retention.stayed });
      }
      retention.destinations.forEach(function (d) {
        nodes.push({ id: 'out:' + d.to.slug + ':to', name: d.to.name, slug: d.to.slug, side: 'out' });
        links.push({ source: 'self', target: 'out:' + d.to.slug + ':to', value: d.count, people: d.people });
      });
      sankey(flows, nodes, links, 'Where the authors went');
    }
  }

  route();
})();
