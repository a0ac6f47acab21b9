// A minimal stand-in for bootstrap-table (which no installed package ships), for GX Data Docs
// offline: $(table).bootstrapTable({columns, data, rowAttributes, rowStyle, sortName, sortOrder})
// renders the header and the rows (in the initial order asked for) as a Bootstrap table; a click on
// a row fires "click-row.bs.table" like the original. Cell values are GX's rendered HTML. Sorting by
// clicking a header, searching and filter controls are not provided.
(function ($) {
  function named(option) {
    return typeof option === "string" ? window[option] : option;
  }
  $.fn.bootstrapTable = function (options) {
    if (typeof options === "string") {
      return this; // methods such as 'resetSearch': nothing to do without search and filters
    }
    return this.each(function () {
      var $table = $(this).addClass("table table-sm table-hover ccms-table-lite").empty();
      var columns = options.columns || [];
      var rowAttributes = named(options.rowAttributes);
      var rowStyle = named(options.rowStyle);
      var $head = $("<tr>");
      columns.forEach(function (column) {
        $("<th>").html(column.title || "").css("text-align", column.align || "").appendTo($head);
      });
      $("<thead>").append($head).appendTo($table);
      var $body = $("<tbody>").appendTo($table);
      var rows = (options.data || []).slice();
      if (options.sortName) { // the initial order GX asks for (a column may sort by a hidden key)
        var sorted = columns.filter(function (c) { return c.field === options.sortName; })[0] || {};
        var key = sorted.sortName || options.sortName;
        var sign = options.sortOrder === "desc" ? -1 : 1;
        rows.sort(function (a, b) { return sign * String(a[key]).localeCompare(String(b[key])); });
      }
      rows.forEach(function (row, index) {
        var $row = $("<tr>");
        if (rowAttributes) {
          $.each(rowAttributes(row, index) || {}, function (name, value) { $row.attr(name, value); });
        }
        if (rowStyle) {
          $row.css((rowStyle(row, index) || {}).css || {});
        }
        columns.forEach(function (column) {
          var value = row[column.field];
          $("<td>").html(value === undefined || value === null ? "" : String(value))
            .css("text-align", column.align || "").appendTo($row);
        });
        $row.on("click", function () { $table.trigger("click-row.bs.table", [row, $row]); });
        $body.append($row);
      });
    });
  };
})(jQuery);
