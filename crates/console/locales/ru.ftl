# Консоль SmartBorder, русский язык.

skip-to-content = Перейти к содержанию
navigation = Основное меню
language = Язык
nav-arrivals = Предварительная информация
nav-movements = Перевозки
nav-notifications = Уведомления
nav-accounts = Учётные записи
unread = Непрочитанные уведомления
sign-in = Вход
sign-out = Выйти
login = Логин
password = Пароль
sign-in-refused = Неверный логин или пароль.
sign-in-locked = Слишком много неудачных попыток: учётная запись заблокирована до { $until }.
csrf-refused = Форма устарела или отправлена не из этой консоли. Обновите страницу и повторите.
refused = Отказано
back-home = Вернуться в консоль
store-unavailable = База данных не ответила
unknown-language = Консоль не поддерживает язык «{ $lang }».

role-officer = Инспектор пункта пропуска
role-supervisor = Руководитель смены
role-analyst = Аналитик по рискам
role-coordinator = Координатор коридора
role-admin = Администратор

status = Статус
route = Маршрут
last-event = Последнее событие
no-movements = Нет подходящих перевозок.
page-of = Показано: { $count }
pages = Страницы
first-page = Первая страница
next-page = Следующая страница
any = Любой
apply-filters = Применить
filter-status = Статус
filter-office = Таможня на маршруте
filter-country = Страна на маршруте
filter-lodged-from = Подана с
filter-lodged-to = Подана по (включительно)
filter-order = Порядок
order-newest = Сначала новые
order-oldest = Сначала старые
filter-invalid = { $field }: указано «{ $found }», ожидается, например, { $expected }.
arrivals-intro = Перевозки, выпущенные для транзита и следующие в ваши таможни (предварительная информация). Новые появляются здесь сразу после выпуска.

status-lodged = Подана
status-rejected = Отклонена
status-accepted = Принята
status-not_released = Не выпущена
status-released_for_transit = Выпущена для транзита
status-invalidated = Аннулирована
status-arrived_at_destination = Прибыла в таможню назначения
status-unloading_remarks = Результаты разгрузки
status-goods_released = Товары выпущены
status-written_off = Завершена
status-under_enquiry = Розыск
status-recovery = Взыскание

event-amended = Декларация изменена (IE013)
event-rejected = Декларация отклонена (IE056)
event-accepted = Принята, присвоен MRN (IE028)
event-not_released = Не выпущена (IE051)
event-released_for_transit = Выпущена для транзита (IE029)
event-invalidated = Аннулирована (IE009)
event-invalidation_requested = Запрошено аннулирование (IE014)
event-invalidation_decided = Решение об аннулировании (IE009)
event-anticipated_transit_record = Предварительная транзитная запись (IE050)
event-arrival_at_transit = Прибытие в транзитную таможню
event-frontier_crossed = Пересечение границы (IE118)
event-incident = Инцидент в пути (IE180)
event-arrival_at_destination = Прибытие в таможню назначения (IE007)
event-unloading_remarks = Контроль в таможне назначения: результаты разгрузки (IE044)
event-goods_released = Товары выпущены (IE025)
event-written_off = Транзит завершён (IE045)
event-enquiry_opened = Начат розыск (IE140)
event-recovery_started = Начато взыскание

place-departure = таможня отправления
place-transit = транзитная таможня
place-destination = таможня назначения
events-here = { $count ->
    [one] { $count } событие
    [few] { $count } события
   *[many] { $count } событий
}
limit-date = Срок доставки
timeline = Хронология
downloads = Сообщения NCTS
download-declaration = Транзитная декларация в поданном виде (CC015C)
download-release = Выпуск для транзита (CC029C)
lodged-as-json = Подана через JSON API: декларации NCTS для загрузки нет.
no-such-movement = Перевозка с MRN { $mrn } не найдена.
record-event = Зарегистрировать событие
office = Таможня
event = Событие
event-time = Когда (местное время таможни)
event-time-help = Оставьте пустым, чтобы записать текущее время.
event-description = Описание или причина (инцидент, отказ в выпуске)
event-conform = Результат контроля (результаты разгрузки)
conform-yes = Соответствует: расхождений нет
conform-no = Не соответствует: выявлены расхождения
record = Зарегистрировать
not-your-office = Вы не регистрируете события в таможне { $office }.
form-description-required = Укажите описание или причину.
form-kind-invalid = «{ $found }» не регистрируется через эту форму.
form-time-invalid = Время «{ $found }» не распознано или не существует в этой таможне (ожидается ГГГГ-ММ-ДДTЧЧ:ММ).
form-limit-date = Для выпуска для транзита нужен срок доставки (ожидается ГГГГ-ММ-ДД, указано «{ $found }»).
form-unreadable = Не удалось прочитать форму.

pre-arrival = предварительная информация
notification = Уведомление
audit-checkpoint = Подписанная контрольная точка журнала аудита
no-notifications = Уведомлений пока нет.

admins-only = Учётными записями управляет только администратор администрации.
role = Роль
offices = Таможни
offices-help = Номера таможен через запятую (только для инспекторов).
account-state = Состояние
account-active = Активна
account-disabled = Отключена
actions = Действия
disable = Отключить
disable-account = Отключить учётную запись { $login }
create-account = Создать учётную запись
account-created = Учётная запись { $login } создана.
unknown-role = Неизвестная роль «{ $role }».
unknown-account = В вашей администрации нет учётной записи { $login }.
