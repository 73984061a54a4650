// advocate's testimonial wall for any website: put
//   <div data-advocate-wall></div>
//   <script src="https://advocate.example.com/wall.js" defer></script>
// on a page and the newest testimonials whose customers chose to show them
// appear in the div (data-limit="5" shows five; at most 50). The feed is
// read from the server the script came from (/wall.json, open to every
// origin). Text is set as text, never as HTML; style the classes
// advocate-wall, advocate-wall-item, advocate-wall-text, advocate-wall-by.
(function () {
  'use strict';
  var script = document.currentScript;
  if (!script || !script.src) return;
  var origin = new URL(script.src).origin;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function render(box, feed) {
    var list = el('ul', 'advocate-wall');
    (feed.testimonials || []).forEach(function (t) {
      var item = el('li', 'advocate-wall-item');
      item.appendChild(el('blockquote', 'advocate-wall-text', t.text));
      var by = el('p', 'advocate-wall-by', '— ' + t.name + ', ');
      var when = el('time', '', t.date);
      when.dateTime = t.date;
      by.appendChild(when);
      item.appendChild(by);
      list.appendChild(item);
    });
    box.replaceChildren(list);
  }

  function load(box) {
    var limit = parseInt(box.getAttribute('data-limit'), 10);
    var url = origin + '/wall.json' + (limit > 0 ? '?limit=' + Math.min(limit, 50) : '');
    fetch(url, { credentials: 'omit' })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (feed) { render(box, feed); })
      .catch(function () { box.setAttribute('data-advocate-wall-error', 'unavailable'); });
  }

  function start() {
    document.querySelectorAll('[data-advocate-wall]').forEach(load);
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
