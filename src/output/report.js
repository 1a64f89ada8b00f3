// report.html: sorting and filtering of the exception table, nothing else.
// A view can be preset in the address: #filter=TEXT&sort=COLUMN:asc|desc.
(function () {
  var table = document.getElementById('exceptions');
  if (!table) return;
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows);
  var heads = table.tHead.rows[0].cells;
  var box = document.getElementById('filter');
  var shown = document.getElementById('shown');
  function key(row, i) {
    var cell = row.cells[i];
    if (!cell) return '';
    var sort = cell.getAttribute('data-sort');
    return sort === null ? cell.textContent : sort;
  }
  function filter() {
    var query = box.value.trim().toLowerCase();
    var count = 0;
    rows.forEach(function (row) {
      var hide = query !== '' && row.textContent.toLowerCase().indexOf(query) < 0;
      row.hidden = hide;
      if (!hide) count++;
    });
    shown.textContent = String(count);
  }
  function sort(i, direction) {
    var numeric = heads[i].getAttribute('data-type') === 'num';
    rows.sort(function (a, b) {
      var x = key(a, i), y = key(b, i);
      var c = numeric ? (parseFloat(x) || 0) - (parseFloat(y) || 0) : x.localeCompare(y);
      return direction === 'descending' ? -c : c;
    });
    rows.forEach(function (row) { body.appendChild(row); });
    for (var j = 0; j < heads.length; j++) heads[j].removeAttribute('aria-sort');
    heads[i].setAttribute('aria-sort', direction);
  }
  Array.prototype.forEach.call(heads, function (th, i) {
    th.addEventListener('click', function () {
      sort(i, th.getAttribute('aria-sort') === 'ascending' ? 'descending' : 'ascending');
    });
  });
  box.addEventListener('input', filter);
  location.hash.replace(/^#/, '').split('&').forEach(function (part) {
    var at = part.indexOf('=');
    if (at < 0) return;
    var name = part.slice(0, at), value;
    try { value = decodeURIComponent(part.slice(at + 1)); } catch (e) { return; }
    if (name === 'filter') box.value = value;
    if (name === 'sort') {
      var spec = value.split(':');
      for (var j = 0; j < heads.length; j++) {
        if (heads[j].getAttribute('data-col') === spec[0]) sort(j, spec[1] === 'desc' ? 'descending' : 'ascending');
      }
    }
  });
  filter();
  document.documentElement.setAttribute('data-ready', 'yes');
})();
